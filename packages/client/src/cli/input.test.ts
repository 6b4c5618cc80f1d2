import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { deferred } from '@baton/testkit';
import { BatonClient } from '../baton-client';
import type { PendingInput, Task } from '../schemas';
import { runCli } from './run-cli';

/**
 * `answer`, `approve`, `deny` and the prompts of `watch`, against a real HTTP
 * server that speaks the contract of `POST /v1/tasks/{taskId}/input`
 * (`{"answer"}` or `{"approved", "feedback"?}`, Idempotency-Key, 202 with
 * the task, 409 when the task is not awaiting input). The route itself lives
 * in the API; this pins what the client sends and how it reads the answer.
 */

interface Posted {
  taskId: string;
  body: unknown;
  idempotencyKey: string | undefined;
}

let server: Server;
let url: string;
const tasks = new Map<string, Task>();
let posted: Posted[] = [];
const onPost: { next?: (p: Posted) => void } = {};

function task(id: string, pendingInput: PendingInput | null): Task {
  return {
    id,
    sessionId: 'sess',
    parentId: null,
    rootId: id,
    mode: 'code',
    prompt: 'do it',
    status: pendingInput ? 'awaiting_input' : 'running',
    result: null,
    error: null,
    childIds: [],
    turns: 1,
    createdAt: new Date().toISOString(),
    startedAt: new Date().toISOString(),
    finishedAt: null,
    pendingInput,
  };
}

function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): void {
  res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
}

async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const path = (req.url ?? '').split('?')[0]!;
  let m = /^\/v1\/tasks\/([^/]+)(\/tree)?$/.exec(path);
  if (req.method === 'GET' && m) {
    const t = tasks.get(m[1]!);
    if (!t) return send(res, 404, { type: 'urn:baton:problem:task-not-found', title: 'Task not found', status: 404, detail: 'no' }, 'application/problem+json');
    return send(res, 200, m[2] ? { ...t, children: [] } : t);
  }
  m = /^\/v1\/tasks\/([^/]+)\/input$/.exec(path);
  if (req.method === 'POST' && m) {
    const t = tasks.get(m[1]!)!;
    const p: Posted = {
      taskId: t.id,
      body: JSON.parse(Buffer.concat(chunks).toString('utf8')),
      idempotencyKey: req.headers['idempotency-key'] as string | undefined,
    };
    posted.push(p);
    onPost.next?.(p);
    if (t.status !== 'awaiting_input') {
      return send(
        res,
        409,
        { type: 'urn:baton:problem:task-not-awaiting-input', title: 'Task not awaiting input', status: 409, detail: `task ${t.id} is ${t.status}` },
        'application/problem+json',
      );
    }
    // As the API answers: 202 with the task (pendingInput cleared); a worker resumes it later. Here it completes at once.
    tasks.set(t.id, { ...t, status: 'completed', result: 'done', finishedAt: new Date().toISOString(), pendingInput: null });
    return send(res, 202, { ...t, pendingInput: null });
  }
  if (req.method === 'GET' && /^\/v1\/sessions\/[^/]+\/events$/.test(path)) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(': open\n\n');
    return; // held open until the client leaves
  }
  send(res, 404, { type: 'about:blank', title: 'Not found', status: 404 }, 'application/problem+json');
}

beforeAll(async () => {
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
beforeEach(() => {
  posted = [];
  onPost.next = undefined;
  tasks.clear();
});

class Sink {
  text = '';
  isTTY = false;
  private waiters: { text: string; resolve(): void }[] = [];
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString();
    for (const w of this.waiters.filter((w) => this.text.includes(w.text))) {
      this.waiters.splice(this.waiters.indexOf(w), 1);
      w.resolve();
    }
    return true;
  }
  /** Resolves once `text` was written. */
  waitFor(text: string): Promise<void> {
    if (this.text.includes(text)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ text, resolve }));
  }
}

const run = async (argv: string[], stdin?: NodeJS.ReadableStream & { isTTY?: boolean }) => {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await runCli(argv, { stdout, stderr, env: { BATON_URL: url }, ...(stdin ? { stdin } : {}) });
  return { code, stdout: stdout.text, stderr: stderr.text };
};

const QUESTION: PendingInput = { kind: 'question', question: 'Which database?', followUp: ['Postgres', 'SQLite'], askedAt: '2026-01-01T00:00:00.000Z' };
const APPROVAL: PendingInput = { kind: 'approval', tool: 'execute_command', arguments: { command: 'rm -rf build' }, askedAt: '2026-01-01T00:00:01.000Z' };

describe('client: answer, approve, deny', () => {
  test('each posts its body (and Idempotency-Key) to /v1/tasks/{id}/input and returns the parsed task', async () => {
    const client = new BatonClient({ baseUrl: url });
    tasks.set('q1', task('q1', QUESTION));
    tasks.set('a1', task('a1', APPROVAL));
    tasks.set('a2', task('a2', APPROVAL));
    const answered = await client.answer('q1', 'Postgres', { idempotencyKey: 'k-1' });
    expect(answered).toMatchObject({ id: 'q1', status: 'awaiting_input', pendingInput: null });
    await client.approve('a1', { feedback: 'ok, once' });
    await client.deny('a2');
    expect(posted).toEqual([
      { taskId: 'q1', body: { answer: 'Postgres' }, idempotencyKey: 'k-1' },
      { taskId: 'a1', body: { approved: true, feedback: 'ok, once' }, idempotencyKey: undefined },
      { taskId: 'a2', body: { approved: false }, idempotencyKey: undefined },
    ]);
    await expect(client.answer('q1', 'again')).rejects.toMatchObject({ status: 409 });
  });
});

describe('CLI: baton answer | approve | deny', () => {
  test('post the input and print the task; a task not awaiting input is exit 3 with the problem', async () => {
    tasks.set('q1', task('q1', QUESTION));
    tasks.set('a1', task('a1', APPROVAL));
    tasks.set('a2', task('a2', APPROVAL));
    const answer = await run(['answer', 'q1', 'SQLite please', '--idempotency-key', 'cli-1']);
    expect(answer.code).toBe(0);
    expect(JSON.parse(answer.stdout)).toMatchObject({ id: 'q1' });
    expect((await run(['approve', 'a1', '--feedback', 'go'])).code).toBe(0);
    expect((await run(['deny', 'a2', '--feedback', 'too risky'])).code).toBe(0);
    expect(posted.map((p) => [p.taskId, p.body, p.idempotencyKey])).toEqual([
      ['q1', { answer: 'SQLite please' }, 'cli-1'],
      ['a1', { approved: true, feedback: 'go' }, undefined],
      ['a2', { approved: false, feedback: 'too risky' }, undefined],
    ]);
    const late = await run(['deny', 'a2']);
    expect(late.code).toBe(3);
    expect(late.stderr).toContain('409');
    expect((await run(['answer', 'q1'])).code).toBe(2);
    expect((await run(['approve'])).code).toBe(2);
  });
});

describe('CLI: watch prompts for a task awaiting input', () => {
  const tty = () => Object.assign(new PassThrough(), { isTTY: true });

  test('a question: the suggestions are numbered; typing a number answers with that suggestion; the watch then ends', async () => {
    tasks.set('w1', task('w1', QUESTION));
    const stdin = tty();
    const watching = run(['watch', 'w1'], stdin);
    const got = deferred<Posted>();
    onPost.next = (p) => got.resolve(p);
    stdin.write('2\n');
    expect(await got.promise).toMatchObject({ taskId: 'w1', body: { answer: 'SQLite' } });
    expect((await got.promise).idempotencyKey).toMatch(/^cli-w1-/);
    const done = await watching;
    expect(done.code).toBe(0);
    expect(done.stdout).toBe('done\n');
    expect(done.stderr).toContain('? task w1 asks: Which database?\n  1. Postgres\n  2. SQLite\n');
    expect(done.stderr).toContain('answer sent');
  });

  test('an approval: n, then feedback, denies with it', async () => {
    tasks.set('w2', task('w2', APPROVAL));
    const stdin = tty();
    const watching = run(['watch', 'w2'], stdin);
    stdin.write('n\nnot on my machine\n');
    const done = await watching;
    expect(done.code).toBe(0);
    expect(posted).toEqual([{ taskId: 'w2', body: { approved: false, feedback: 'not on my machine' }, idempotencyKey: expect.stringMatching(/^cli-w2-/) }]);
    expect(done.stderr).toContain('? task w2 wants to run execute_command {"command":"rm -rf build"}');
  });

  test('without a TTY on stdin: the command to run is printed once, nothing is posted', async () => {
    tasks.set('w3', task('w3', QUESTION));
    const abort = new AbortController();
    const stderr = new Sink();
    const watching = runCli(['watch', 'w3'], { stdout: new Sink(), stderr, env: { BATON_URL: url }, signal: abort.signal });
    // The plain view prints the task line first, then the request and the command.
    await stderr.waitFor('baton answer w3');
    abort.abort();
    await watching;
    expect(stderr.text).toContain('? task w3 asks: Which database?');
    expect(stderr.text).toContain('answer with: baton answer w3 "<text>"');
    expect(stderr.text.match(/baton answer w3/g)).toHaveLength(1);
    expect(posted).toEqual([]);
  });
});
