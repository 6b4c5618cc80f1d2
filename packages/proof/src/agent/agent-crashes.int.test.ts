import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message, Task } from '@baton/client';
import { chatCompletion, toolCall, waitUntil, type FakeRequest } from '@baton/testkit';
import { BatonStack } from '../support/baton-stack';
import { Holds } from '../support/holds';
import { taskEvent, waitForEvent, waitForStatus } from '../support/waits';

/**
 * The agent's side effects and waits under SIGKILL, as deployed: the API and
 * worker processes on real Redis, the HTTP fake provider scripting the model,
 * the workers' tools acting in a real workspace folder. A worker is killed
 * while a command runs, while a question waits, and between a tool call and
 * the next request; afterwards every side effect happened once and no answer
 * was lost. Instants are lined up with files the commands write, the
 * session's event stream and the fake's holds, never with timers.
 */
const TENANT = 'proof'; // the stack's API key belongs to this tenant: workspaces are <root>/proof/<session>

describe('agent tools and waits across worker kills (api + worker processes)', () => {
  let stack: BatonStack;
  let workspaces: string;
  /** Process groups of commands a killed worker left running (documented: the worker's death does not kill them). */
  const orphans: number[] = [];

  beforeEach(async () => {
    workspaces = mkdtempSync(join(tmpdir(), 'baton-proof-ws-'));
    // A mode whose commands run without asking: these scenarios are about crashes, not approvals.
    const modesFile = join(workspaces, 'modes.json');
    writeFileSync(
      modesFile,
      JSON.stringify({
        customModes: [
          { slug: 'runner', name: 'Runner', roleDefinition: 'You run things.', groups: ['read', 'edit', 'command'], approval: { execute_command: 'auto' } },
        ],
      }),
    );
    stack = await BatonStack.start('agent-crash', {
      workers: 1,
      workerEnv: { WORKSPACE_ROOT: workspaces, MODES_FILE: modesFile },
      apiEnv: { WORKSPACE_ROOT: workspaces },
    });
  });

  afterEach(async () => {
    for (const pgid of orphans.splice(0)) {
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await stack?.close();
    rmSync(workspaces, { recursive: true, force: true });
  });

  /** Scripts the fake per turn of `taskId`; a turn function gets the request (its messages hold the tool results so far). */
  function script(taskId: string, turns: ((r: FakeRequest) => Record<string, unknown>)[]): void {
    stack.fake.setPolicy((r) => {
      if (!r.key?.startsWith(`${taskId}:`)) return undefined;
      const turn = turns[Number(r.key.slice(taskId.length + 1)) - 1];
      return turn ? { body: turn(r) } : undefined;
    });
  }
  const lastTool = (r: FakeRequest) => [...(r.body.messages ?? [])].reverse().find((m) => m.role === 'tool')?.content ?? '';
  const completeWithLastTool = (r: FakeRequest) => chatCompletion({ toolCalls: [toolCall('done', 'attempt_completion', { result: lastTool(r) })] });
  const dir = (sessionId: string) => join(workspaces, TENANT, sessionId);
  const lines = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean) : []);
  const toolResults = (messages: Message[]) => messages.flatMap((m) => (m.role === 'tool' ? [m.content] : []));

  async function killTheWorkerAndStartAnother(): Promise<void> {
    const [worker] = stack.workers;
    await stack.removeWorker(worker!, 'SIGKILL');
    await stack.addWorker();
  }

  it('killed while a command runs: the command is not run again, and the model is told it was interrupted', async () => {
    const sessionId = 'crash-cmd';
    const { task } = await stack.client.submit(sessionId, { prompt: 'run it', mode: 'runner' });
    script(task.id, [
      // $$ is the shell, the leader of the command's process group.
      () => chatCompletion({ toolCalls: [toolCall('c1', 'execute_command', { command: 'echo $$ > pgid; echo run >> runs.txt; sleep 60' })] }),
      completeWithLastTool,
    ]);
    await waitForEvent(stack.client, sessionId, taskEvent(task.id, 'tool.started'));
    // The command is running once it wrote its group id (a file it writes: black-box state of another process).
    await waitUntil(() => lines(join(dir(sessionId), 'runs.txt')).length === 1, 20_000, 20);
    orphans.push(Number(readFileSync(join(dir(sessionId), 'pgid'), 'utf8')));

    await killTheWorkerAndStartAnother();
    const [done] = await waitForStatus(stack.client, [task.id]);
    expect(done).toMatchObject({ status: 'completed', result: expect.stringMatching(/^interrupted: execute_command was running when its worker stopped/) });
    expect(lines(join(dir(sessionId), 'runs.txt'))).toEqual(['run']);
    expect(stack.fake.stats.requestsByKey[`${task.id}:1`]).toBe(1);
  });

  it('killed while a question waits: the answer posted while no worker runs is delivered once, to the next worker', async () => {
    const sessionId = 'crash-ask';
    const { task } = await stack.client.submit(sessionId, { prompt: 'ask me', mode: 'runner' });
    script(task.id, [
      () => chatCompletion({ toolCalls: [toolCall('q1', 'ask_followup_question', { question: 'Which branch?', follow_up: ['main', 'dev'] })] }),
      completeWithLastTool,
    ]);
    await waitForEvent(stack.client, sessionId, taskEvent(task.id, 'task.input_required'));

    const [worker] = stack.workers;
    await stack.removeWorker(worker!, 'SIGKILL');
    const answered: Task = await stack.client.answer(task.id, 'dev');
    expect(answered).toMatchObject({ status: 'awaiting_input', pendingInput: null });
    await expect(stack.client.answer(task.id, 'main')).rejects.toMatchObject({ status: 409 });
    await stack.addWorker();

    const [done] = await waitForStatus(stack.client, [task.id]);
    expect(done).toMatchObject({ status: 'completed', result: '<answer>\ndev\n</answer>' });
    const messages = await stack.client.getMessages(task.id);
    expect(toolResults(messages)).toEqual(['<answer>\ndev\n</answer>', 'completed']);
    expect([stack.fake.stats.requestsByKey[`${task.id}:1`], stack.fake.stats.requestsByKey[`${task.id}:2`]]).toEqual([1, 1]);
  });

  it('killed between a tool call and the next request: the calls are not run again, the turn is sent again under its key', async () => {
    const sessionId = 'crash-between';
    const { task } = await stack.client.submit(sessionId, { prompt: 'write and run', mode: 'runner' });
    const holds = new Holds(stack.fake);
    const turn2 = holds.key(`${task.id}:2`);
    script(task.id, [
      () =>
        chatCompletion({
          toolCalls: [
            toolCall('w1', 'write_to_file', { path: 'out/a.txt', content: 'A\n' }),
            toolCall('x1', 'execute_command', { command: 'echo side >> side.txt' }),
          ],
        }),
      completeWithLastTool,
    ]);
    // Both tool results are stored before turn 2 is requested: the worker dies with turn 2 in flight.
    await turn2.arrived;
    await killTheWorkerAndStartAnother();
    turn2.release();

    const done = (await waitForStatus(stack.client, [task.id]))[0]!;
    expect(done.status).toBe('completed');
    expect(done.result).toMatch(/^exit code 0/);
    expect(lines(join(dir(sessionId), 'side.txt'))).toEqual(['side']);
    expect(readFileSync(join(dir(sessionId), 'out', 'a.txt'), 'utf8')).toBe('A\n');
    const messages = await stack.client.getMessages(task.id);
    expect(toolResults(messages)).toHaveLength(3); // write, command, completion: each answered once
    // Turn 2's request died with its worker: re-sent under the same key (the documented crash boundary); turn 1 was not.
    expect(stack.fake.stats.requestsByKey[`${task.id}:1`]).toBe(1);
    expect(stack.fake.stats.requestsByKey[`${task.id}:2`]).toBeGreaterThanOrEqual(1);
  });
});
