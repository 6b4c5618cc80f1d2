import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { CLI_MAIN, cleanupPrefix, runScript, spawnScript, startApi, startWorker, testPrefix, type ApiProcess, type BatonProcess } from '@baton/testkit';
import { BatonClient } from './baton-client';
import { runCli } from './cli/run-cli';
import type { Task, TaskTree } from './schemas';

/** Runs the built `baton` CLI as a process. */
const baton = (args: string[], env: Record<string, string>) => runScript(CLI_MAIN, args, env);
const spawnBaton = (args: string[], env: Record<string, string>) => spawnScript(CLI_MAIN, args, env);

/**
 * Black box: the built API and worker processes (the worker on its built-in
 * demo model), real Redis, and the built `baton` CLI run as a process.
 */
const KEY = 'cli-e2e-secret-01';

let prefix: string;
let api: ApiProcess;
let worker: BatonProcess;
let env: Record<string, string>;
let client: BatonClient;

beforeAll(async () => {
  prefix = testPrefix('cli');
  [api, worker] = await Promise.all([startApi(prefix, { API_KEYS: `acme:${KEY}` }), startWorker(prefix)]);
  env = { BATON_URL: api.url, BATON_API_KEY: KEY };
  client = new BatonClient({ baseUrl: api.url, apiKey: KEY });
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await cleanupPrefix(prefix);
});

function flatten(tree: TaskTree): TaskTree[] {
  return [tree, ...tree.children.flatMap(flatten)];
}

describe('baton CLI against the api and worker processes', () => {
  it('baton submit, then baton watch: an orchestrator tree runs to completion on the demo model; exit 0 with the result', async () => {
    const submitted = await baton(['submit', 'cli-s1', 'Write the parser. Test it', '--idempotency-key', 'cli-k1'], env);
    expect(submitted).toMatchObject({ code: 0, stderr: '' });
    const task = JSON.parse(submitted.stdout) as Task;
    expect(task).toMatchObject({ sessionId: 'cli-s1', mode: 'orchestrator', parentId: null });

    const watched = await baton(['watch', task.id], env);
    expect(watched.code).toBe(0);
    expect(watched.stdout).toBe('Finished "Write the parser. Test it" in 2 steps:\n1. (demo) implemented: Write the parser\n2. (demo) implemented: Test it\n');

    // The plain (non-TTY) view printed each task's final state, and the summary last.
    const tree = await client.getTree(task.id);
    const tasks = flatten(tree);
    expect(tasks.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
    const lines = watched.stderr.trimEnd().split('\n');
    for (const t of tasks) expect(lines.filter((l) => l.startsWith(`${t.id} ${t.mode} completed turns=${t.turns} elapsed=`))).toHaveLength(1);
    expect(lines.at(-1)).toMatch(new RegExp(`^${task.id.replace(/\./g, '\\.')} completed in \\d+\\.\\ds$`));

    // The same key again: the same task, reported as a replay.
    const replay = await baton(['submit', 'cli-s1', 'Write the parser. Test it', '--idempotency-key', 'cli-k1'], env);
    expect(replay.code).toBe(0);
    expect((JSON.parse(replay.stdout) as Task).id).toBe(task.id);
    expect(replay.stderr).toContain('idempotent replay');
  });

  it('baton watch exits 1 on a cancelled task; pause, resume, cancel and session print JSON', async () => {
    const paused = await baton(['pause', 'cli-s2'], env);
    expect(paused.code).toBe(3); // no such session yet for this tenant
    expect(paused.stderr).toContain('404');

    const first = JSON.parse((await baton(['submit', 'cli-s2', 'Plan it. Build it'], env)).stdout) as Task;
    expect((await baton(['watch', first.id], env)).code).toBe(0);

    expect(JSON.parse((await baton(['pause', 'cli-s2'], env)).stdout)).toMatchObject({ id: 'cli-s2', status: 'paused' });
    const held = JSON.parse((await baton(['submit', 'cli-s2', 'never runs'], env)).stdout) as Task;
    const watching = spawnBaton(['watch', held.id], env);
    // The watch is live (it printed the queued task) before the cancel happens: the cancel reaches it as an event.
    await watching.stderrMatches(new RegExp(`${held.id} orchestrator queued`));
    expect(JSON.parse((await baton(['session', 'cli-s2'], env)).stdout)).toMatchObject({ status: 'paused', queuedTaskIds: [held.id] });
    const cancelled = await baton(['cancel', held.id], env);
    expect(JSON.parse(cancelled.stdout)).toMatchObject({ id: held.id, status: 'cancelled' });
    const watched = await watching.result;
    expect(watched.code).toBe(1);
    expect(watched.stdout).toBe('');
    expect(watched.stderr).toMatch(new RegExp(`${held.id} cancelled after`));
    expect(JSON.parse((await baton(['resume', 'cli-s2'], env)).stdout)).toMatchObject({ id: 'cli-s2', status: 'idle' });
  });

  it("baton submit of an unknown mode is refused up front (422 UNKNOWN_MODE from the workers' mode catalogue): exit 3, no task", async () => {
    const refused = await baton(['submit', 'cli-s3', 'anything', '--mode', 'no-such-mode', '--watch'], env);
    expect(refused.code).toBe(3);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toMatch(/^baton: 422 Unknown mode: unknown mode "no-such-mode"; known modes: orchestrator, code, ask, architect, debug/);
    await expect(client.getSession('cli-s3')).rejects.toMatchObject({ status: 404 });
  });

  it('watch redraws the tree in place on a TTY while the tree runs', async () => {
    // Paused first (a session exists once it has a task), so the watch sees the task queued and
    // then follows the whole run live.
    const { task: first } = await client.submit('cli-s4', { prompt: 'first' });
    await client.pause('cli-s4');
    const { task } = await client.submit('cli-s4', { prompt: 'Plan it. Build it' });
    await client.cancel(first.id).catch((err: unknown) => expect(err).toMatchObject({ status: 409 })); // 409: it already completed
    let out = '';
    let err = '';
    let resumed: Promise<unknown> | null = null;
    const code = await runCli(['watch', task.id], {
      stdout: { write: (s: string) => (out += s) },
      stderr: {
        write: (s: string) => {
          err += s;
          if (!resumed && s.includes('queued')) resumed = client.resume('cli-s4');
        },
        isTTY: true,
        columns: 200,
      },
      env: { ...env, NO_COLOR: '1' },
    });
    await resumed;
    expect(code).toBe(0);
    expect(out).toContain('in 2 steps');
    const frames = err.split('\r\x1b[0J');
    expect(frames[0]).toMatch(new RegExp(`^${task.id}\\s+orchestrator\\s+queued\\s+turns 0`));
    expect(frames.length).toBeGreaterThan(3);
    // The last frame is the final tree (then the summary line): every task completed, with guides.
    const last = frames.at(-1)!.split('\n');
    expect(last.slice(0, 3).map((l) => l.split(/\s+/)[l.startsWith('t_') ? 2 : 3])).toEqual(['completed', 'completed', 'completed']);
    expect(last[1]).toMatch(/^├─ /);
    expect(last[2]).toMatch(/^└─ /);
    expect(last[3]).toMatch(new RegExp(`^${task.id} completed in`));
  });

  it('baton export writes the tree document; baton delete refuses a subtask and deletes the root; baton delete-session deletes a running session', async () => {
    const task = JSON.parse((await baton(['submit', 'cli-s6', 'Plan it. Build it'], env)).stdout) as Task;
    expect((await baton(['watch', task.id], env)).code).toBe(0);
    const dir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
    try {
      const file = join(dir, 'tree.json');
      const exported = await baton(['export', task.id, '--out', file], env);
      expect(exported).toMatchObject({ code: 0, stdout: '' });
      expect(exported.stderr).toMatch(new RegExp(`^exported ${task.id} to ${file}: 3 task\\(s\\), \\d+ message\\(s\\), \\d+ event\\(s\\)\\n$`));
      const doc = JSON.parse(readFileSync(file, 'utf8')) as {
        version: number;
        root: TaskTree;
        conversations: Record<string, unknown[]>;
        events: { taskId: string }[];
      };
      expect(doc.root).toEqual(await client.getTree(task.id));
      const ids = flatten(doc.root).map((t) => t.id);
      expect(Object.keys(doc.conversations).sort()).toEqual([...ids].sort());
      for (const id of ids) expect(doc.conversations[id]).toEqual(await client.getMessages(id));
      expect(doc.events.some((e) => e.taskId === task.id)).toBe(true);
      expect(JSON.parse((await baton(['export', task.id], env)).stdout)).toEqual({ ...doc, exportedAt: expect.any(String) });

      const refused = await baton(['delete', doc.root.children[0]!.id], env);
      expect(refused).toMatchObject({ code: 3, stdout: '' });
      expect(refused.stderr).toMatch(/409 .*task-not-root/);
      const deleted = await baton(['delete', task.id], env);
      expect(deleted).toMatchObject({ code: 0, stderr: '' });
      expect(JSON.parse(deleted.stdout)).toEqual({ taskId: task.id, state: 'deleted' });
      expect(await baton(['tree', task.id], env)).toMatchObject({ code: 3, stderr: expect.stringContaining('404') });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // Deleting a session while its tree runs: the CLI waits until it is gone.
    const running = JSON.parse((await baton(['submit', 'cli-s6', 'Plan it. Build it. Test it'], env)).stdout) as Task;
    const stop = new AbortController();
    for await (const event of client.events('cli-s6', { signal: stop.signal })) {
      if (event.taskId === running.id && event.type === 'task.started') break;
    }
    const gone = await baton(['delete-session', 'cli-s6', '--wait', '20'], env);
    expect(gone).toMatchObject({ code: 0 });
    expect(JSON.parse(gone.stdout)).toEqual({ sessionId: 'cli-s6', state: 'deleted' });
    expect(await baton(['session', 'cli-s6'], env)).toMatchObject({ code: 3, stderr: expect.stringContaining('404') });
    expect(await baton(['delete-session', 'cli-s6'], env)).toMatchObject({ code: 3, stderr: expect.stringContaining('404') });
  });

  it('argument, auth and connection errors are clear, with exit codes 2 and 3', async () => {
    expect(await baton(['submit', 'cli-s5'], env)).toMatchObject({ code: 2, stdout: '', stderr: expect.stringContaining('submit: missing <prompt>') });
    expect(await baton(['watch', 'no-such-task'], env)).toMatchObject({ code: 3, stderr: expect.stringMatching(/404 .*no-such-task/) });
    expect(await baton(['session', 'cli-s1'], { ...env, BATON_API_KEY: 'wrong-key-000000' })).toMatchObject({
      code: 3,
      stderr: expect.stringContaining('401'),
    });
    expect(await baton(['session', 'cli-s1'], { BATON_URL: 'http://127.0.0.1:9' })).toMatchObject({
      code: 3,
      stderr: expect.stringContaining('cannot reach Baton at http://127.0.0.1:9'),
    });
    expect(await baton(['session', 'cli-s1'], { BATON_URL: 'ftp://x' })).toMatchObject({ code: 2 });
  });

  it('the built bin runs through its shebang', async () => {
    const { stdout } = await promisify(execFile)(CLI_MAIN, ['help']);
    expect(stdout).toContain('Usage: baton <command>');
  });
});
