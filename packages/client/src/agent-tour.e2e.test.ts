import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, cleanupPrefix, runScript, startApi, startWorker, testPrefix, type ApiProcess, type BatonProcess } from '@baton/testkit';
import { BatonClient } from './baton-client';
import type { Task, TaskTree } from './schemas';

/**
 * The agent end to end, black box: the built API and worker processes (the
 * worker on its built-in demo model), one shared workspace folder, real
 * Redis, and the built `baton` CLI. The demo model's "tour" delegates a file
 * to a code subtask, which writes it with write_to_file; the parent reads it
 * back with read_file, asks the user with ask_followup_question and waits
 * (awaiting_input, no worker slot held) until `baton answer` delivers the
 * answer through the API; then it completes with the file and the answer.
 */
const KEY = 'tour-e2e-secret-01';
const baton = (args: string[], env: Record<string, string>) => runScript(CLI_MAIN, args, env);

let prefix: string;
let workspaces: string;
let api: ApiProcess;
let worker: BatonProcess;
let env: Record<string, string>;
let client: BatonClient;

beforeAll(async () => {
  prefix = testPrefix('tour');
  workspaces = mkdtempSync(join(tmpdir(), 'baton-tour-'));
  const shared = { WORKSPACE_ROOT: workspaces };
  [api, worker] = await Promise.all([
    startApi(prefix, { ...shared, API_KEYS: `acme:${KEY}` }),
    startWorker(prefix, { ...shared, DEMO_MODEL_LATENCY_MS: '0', WORKER_CONCURRENCY: '1' }),
  ]);
  env = { BATON_URL: api.url, BATON_API_KEY: KEY };
  client = new BatonClient({ baseUrl: api.url, apiKey: KEY });
});

afterAll(async () => {
  await Promise.all([api?.stop(), worker?.stop()]);
  await cleanupPrefix(prefix);
  rmSync(workspaces, { recursive: true, force: true });
});

/** Waits for the task to reach one of `statuses`, following the session's event stream (no polling). */
async function until(task: Task, statuses: string[]): Promise<Task> {
  const controller = new AbortController();
  try {
    const current = await client.getTask(task.id);
    if (statuses.includes(current.status)) return current;
    for await (const event of client.events(task.sessionId, { signal: controller.signal })) {
      if (event.taskId !== task.id) continue;
      const now = await client.getTask(task.id);
      if (statuses.includes(now.status)) return now;
    }
  } finally {
    controller.abort();
  }
  throw new Error('event stream ended');
}

describe('a real agent on the durable engine (demo model, processes, CLI)', () => {
  it('delegates, writes a file in a subtask, reads it back in the parent, asks a question, waits for the answer through the API and completes', async () => {
    const submitted = await baton(['submit', 'tour-s1', 'tour notes/hello.md: Hello from a subtask', '--mode', 'code'], env);
    expect(submitted).toMatchObject({ code: 0, stderr: '' });
    const root = JSON.parse(submitted.stdout) as Task;

    // The question: the task parks, its job leaves the worker (concurrency 1) free.
    const waiting = await until(root, ['awaiting_input', 'failed', 'completed']);
    expect(waiting.status).toBe('awaiting_input');
    expect(waiting.pendingInput).toMatchObject({
      kind: 'question',
      question: 'I read notes/hello.md back (1 lines). Shall I finish?',
      followUp: ['Yes, finish', 'No, stop here'],
    });
    const { task: other } = await client.submit('tour-s2', { prompt: 'Say hello', mode: 'ask' });
    expect((await until(other, ['completed', 'failed'])).status).toBe('completed');

    // The subtask's file is in the session's workspace, readable through the API and the CLI.
    expect((await baton(['files', 'get', 'tour-s1', 'notes/hello.md'], env)).stdout).toBe('Hello from a subtask\n');

    // The answer through the API (the CLI); a second, different answer is refused.
    expect(await baton(['answer', root.id, 'Yes, finish'], env)).toMatchObject({ code: 0 });
    const answeredTwice = await baton(['answer', root.id, 'No'], env);
    expect(answeredTwice.code).not.toBe(0);
    expect(answeredTwice.stderr).toMatch(/409|INPUT_CONFLICT|not awaiting input/);

    const done = await until(root, ['completed', 'failed']);
    expect(done).toMatchObject({ status: 'completed', result: 'notes/hello.md:\n1 | Hello from a subtask\nYou answered: <answer>\nYes, finish\n</answer>' });

    // The tree: one code subtask that wrote the file; the parent's conversation holds each step once.
    const tree: TaskTree = await client.getTree(root.id);
    expect(tree.children).toHaveLength(1);
    expect(tree.children[0]).toMatchObject({ mode: 'code', status: 'completed', result: expect.stringMatching(/^notes\/hello\.md: created notes\/hello\.md/) });
    const messages = await client.getMessages(root.id);
    const calls = messages.flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []).map((c) => c.function.name) : []));
    expect(calls).toEqual(['new_task', 'read_file', 'ask_followup_question', 'attempt_completion']);
    const received: string[] = [];
    const controller = new AbortController();
    for await (const event of client.events(root.sessionId, { signal: controller.signal })) {
      if (event.type === 'task.input_received') received.push(event.taskId ?? '');
      if (event.type === 'task.completed' && event.taskId === root.id) controller.abort();
    }
    expect(received).toEqual([root.id]);
  });
});
