import { Engine, type Message } from '@baton/core';
import { chatCompletion, cleanupPrefix, REDIS_URL, startFakeProvider, testPrefix, toolCall, waitUntil, type FakeProvider } from '@baton/testkit';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILT_IN_MODES, ModeRegistry } from '../modes/modes';
import { jobEnded, startTestWorker } from '../test-utils/harness';
import type { WorkerApp } from '../worker-app';
import { interruptedMessage } from './tool-journal';

/**
 * Side effects and replay: a tool call of group edit/command/mcp is marked
 * started (fenced) before it runs; a replay that meets it unanswered answers
 * it as interrupted instead of running it again. Real Redis, real worker
 * apps in-process, the fake provider over HTTP, a real workspace and a real
 * shell command.
 */
describe('tool journal (side effects are not re-run by a replay)', () => {
  const prefix = testPrefix('journal');
  let fake: FakeProvider;
  let engine: Engine;
  let workspaceRoot: string;
  const apps: WorkerApp[] = [];
  let seq = 0;

  const modes = new ModeRegistry([
    ...BUILT_IN_MODES,
    // Commands run without asking here: this suite is about crashes, not approvals.
    { slug: 'worker', name: 'Worker', roleDefinition: 'You change files.', groups: ['read', 'edit', 'command'], approval: { execute_command: 'auto' } },
  ]);
  // Short locks, so a "dead" worker's job is re-taken at once. Every worker of the prefix gets the same
  // stalled interval: BullMQ's stalled check is throttled by the longest one.
  const start = () =>
    startTestWorker({
      prefix,
      modes,
      env: {
        LLM_BASE_URL: fake.url,
        WORKSPACE_ROOT: workspaceRoot,
        WORKER_CONCURRENCY: '1',
        WORKER_LOCK_DURATION_MS: '1000',
        WORKER_STALLED_INTERVAL_MS: '1000',
      },
    }).then((app) => {
      apps.push(app);
      return app;
    });

  beforeAll(async () => {
    fake = await startFakeProvider({ apiKey: 'sk-test' });
    engine = new Engine(REDIS_URL, { prefix });
    workspaceRoot = mkdtempSync(join(tmpdir(), 'baton-journal-'));
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close(1000)));
  });
  afterAll(async () => {
    await engine?.close();
    await fake?.close();
    await cleanupPrefix(prefix);
    rmSync(workspaceRoot, { recursive: true, force: true });
  });

  /** Answers turn N of a task with `script[N - 1]`, given the conversation so far. */
  function script(taskId: string, turns: ((messages: Message[]) => Record<string, unknown>)[]) {
    fake.setPolicy((r) => {
      const m = r.key?.startsWith(`${taskId}:`) ? Number(r.key.slice(taskId.length + 1)) : 0;
      const turn = turns[m - 1];
      return turn ? { body: turn((r.body.messages ?? []) as Message[]) } : undefined;
    });
  }
  const lastTool = (messages: Message[]) => [...messages].reverse().find((m) => m.role === 'tool')?.content ?? '';
  const complete = (messages: Message[]) => chatCompletion({ toolCalls: [toolCall('call_done', 'attempt_completion', { result: lastTool(messages) })] });

  it('a side effect runs once: the marker and tool.started are recorded first, the files land in the session workspace', async () => {
    const app = await start();
    const taskId = `j${++seq}-${prefix.slice(-8)}`;
    script(taskId, [
      () => chatCompletion({ toolCalls: [toolCall('call_w', 'write_to_file', { path: 'notes/a.md', content: 'hello\n' })] }),
      () => chatCompletion({ toolCalls: [toolCall('call_r', 'read_file', { path: 'notes/a.md' })] }),
      complete,
    ]);
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt: 'write a note', mode: 'worker' });
    await ended;
    const task = (await engine.getTask(taskId))!;
    expect(task.status).toBe('completed');
    expect(task.result).toBe('1 | hello');
    expect(readFileSync(join(workspaceRoot, 'default', `s-${taskId}`, 'notes', 'a.md'), 'utf8')).toBe('hello\n');
    // write_to_file (edit) was journaled; read_file (read) was not.
    expect((await engine.tasks.raw(`s-${taskId}`, taskId)).toolCall).toBe('1:call_w');
    const started = (await engine.readEvents(`s-${taskId}`)).filter((e) => e.type === 'tool.started');
    expect(started.map((e) => e.data)).toEqual([{ turn: 1, callId: 'call_w', tool: 'write_to_file' }]);
  });

  it('a command cut off by a dead worker is answered "interrupted" on replay and not run again', async () => {
    const a = await start();
    const taskId = `j${++seq}-${prefix.slice(-8)}`;
    const sessionId = `s-${taskId}`;
    const dir = join(workspaceRoot, 'default', sessionId);
    script(taskId, [
      // $$ is the shell: the leader of the command's process group.
      () => chatCompletion({ toolCalls: [toolCall('call_cmd', 'execute_command', { command: 'echo run >> runs.txt; echo $$ > pgid; sleep 60' })] }),
      complete,
    ]);
    await engine.submit({ sessionId, taskId, prompt: 'run the command', mode: 'worker' });
    // The command runs (black-box state of another process: a bounded re-check).
    await waitUntil(() => existsSync(join(dir, 'pgid')) && readFileSync(join(dir, 'pgid'), 'utf8').endsWith('\n'));
    const pgid = Number(readFileSync(join(dir, 'pgid'), 'utf8'));
    expect((await engine.tasks.raw(sessionId, taskId)).toolCall).toBe('1:call_cmd');

    try {
      // Worker A "dies": its BullMQ worker stops renewing the job's lock, the command goes on
      // (as a detached group does when its worker is SIGKILLed). B re-takes the stalled job.
      await a.taskWorker.close(true);
      const b = await start();
      await jobEnded(b, taskId);

      const task = (await engine.getTask(taskId))!;
      expect(task.status).toBe('completed');
      expect(task.result).toBe(interruptedMessage('execute_command'));
      expect(task.result).toBe(
        'interrupted: execute_command was running when its worker stopped; it may have partly run. Check the state (e.g. read the file / list the folder) before running it again.',
      );
      const messages = (await engine.getMessages(taskId))!;
      expect(messages.filter((m) => m.role === 'tool').map((m) => m.tool_call_id)).toEqual(['call_cmd', 'call_done']);
      // Run once: by A only.
      expect(readFileSync(join(dir, 'runs.txt'), 'utf8')).toBe('run\n');
      expect(fake.stats.requestsByKey[`${taskId}:1`]).toBe(1);
      expect(fake.stats.requestsByKey[`${taskId}:2`]).toBe(1);
    } finally {
      // A's command, still running, goes now (A's late result is then refused by the fence).
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('a write cut off by a dead worker is answered "interrupted" on replay and not written again', async () => {
    const a = await start();
    const taskId = `j${++seq}-${prefix.slice(-8)}`;
    const sessionId = `s-${taskId}`;
    const dir = join(workspaceRoot, 'default', sessionId);
    // A FIFO: opening it for writing blocks until a reader comes, so the write is caught mid-way, for real.
    mkdirSync(dir, { recursive: true });
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    script(taskId, [() => chatCompletion({ toolCalls: [toolCall('call_w', 'write_to_file', { path: 'pipe', content: 'data\n' })] }), complete]);
    await engine.submit({ sessionId, taskId, prompt: 'write to the pipe', mode: 'worker' });
    // Marked started, then blocked in the FIFO's open (the worker's state: a bounded re-check).
    await waitUntil(async () => (await engine.tasks.raw(sessionId, taskId)).toolCall === '1:call_w');
    let reader: number | undefined;
    try {
      await a.taskWorker.close(true);
      const b = await start();
      // Were the write run again, B would block on the FIFO too and this would time out.
      await jobEnded(b, taskId);
      const task = (await engine.getTask(taskId))!;
      expect(task.status).toBe('completed');
      expect(task.result).toBe(interruptedMessage('write_to_file'));
      expect(fake.stats.requestsByKey[`${taskId}:1`]).toBe(1);
    } finally {
      // Release A's blocked write: a reader opens the FIFO (non-blocking), A writes once and its late result is fenced out.
      reader = openSync(join(dir, 'pipe'), constants.O_RDONLY | constants.O_NONBLOCK);
    }
    await waitUntil(() => {
      const buffer = Buffer.alloc(64);
      try {
        return readSync(reader!, buffer) > 0 && buffer.toString('utf8').startsWith('data');
      } catch {
        return false;
      }
    });
    closeSync(reader);
  });
});
