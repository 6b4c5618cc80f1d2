import { TaskWorker, type TaskHandler } from '@baton/core';
import { startHarness, waitForTask, type Harness } from '../test-utils/harness';

const ACME = { authorization: 'Bearer acme-secret-0001' };
const GLOBEX = { authorization: 'Bearer globex-secret-0002' };

/**
 * A task that asks (prompt `ask`: a question; `approve`: an approval of
 * `execute_command`) and completes with the response it got, as JSON.
 * Runs on a real TaskWorker next to the API.
 */
const asking: TaskHandler = async (ctx) => {
  const response =
    ctx.task.prompt === 'approve'
      ? await ctx.awaitInput('call_a', { kind: 'approval', tool: 'execute_command', arguments: { command: 'ls -la' } })
      : await ctx.awaitInput('call_q', { kind: 'question', question: 'Which colour?', followUp: ['red', 'blue'] });
  return { status: 'completed', result: JSON.stringify(response) };
};

let h: Harness;
let worker: TaskWorker;
beforeAll(async () => {
  h = await startHarness({ env: { API_KEYS: 'acme:acme-secret-0001,globex:globex-secret-0002' } });
  worker = new TaskWorker(h.engine, asking, { concurrency: 2 });
  await worker.waitUntilReady();
});
afterAll(async () => {
  await worker.close(true);
  await h.close();
});

const input = (taskId: string, payload: unknown, headers: Record<string, string> = {}) =>
  h.app.inject({ method: 'POST', url: `/v1/tasks/${taskId}/input`, headers: { ...ACME, ...headers }, payload: payload as object });

async function waitingTask(sessionId: string, prompt: string): Promise<string> {
  const res = await h.app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/tasks`, headers: ACME, payload: { prompt } });
  expect(res.statusCode).toBe(201);
  const id = res.json().id as string;
  await waitForTask(h.engine, id, ['awaiting_input']);
  return id;
}

describe('POST /v1/tasks/{taskId}/input', () => {
  test('a question: GET shows awaiting_input with pendingInput; the answer (202) resumes the task; the same key replays, another answer is 409', async () => {
    const id = await waitingTask('s-q', 'ask');
    const got = await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME });
    expect(got.json()).toMatchObject({
      status: 'awaiting_input',
      pendingInput: { kind: 'question', question: 'Which colour?', followUp: ['red', 'blue'], toolCallId: 'call_q', askedAt: expect.any(String) },
    });
    expect(new Date(got.json().pendingInput.askedAt).toISOString()).toBe(got.json().pendingInput.askedAt);

    const wrongKind = await input(id, { approved: true });
    expect(wrongKind.statusCode).toBe(422);
    expect(wrongKind.json()).toMatchObject({
      code: 'INPUT_KIND_MISMATCH',
      type: 'urn:baton:problem:input-kind-mismatch',
      detail: expect.stringContaining('{"answer": "..."}'),
    });

    const first = await input(id, { answer: 'blue' }, { 'idempotency-key': 'answer-1' });
    expect(first.statusCode).toBe(202);
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(first.json()).toMatchObject({ id, pendingInput: null });

    const again = await input(id, { answer: 'blue' }, { 'idempotency-key': 'answer-1' });
    expect(again.statusCode).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    const otherWithKey = await input(id, { answer: 'red' }, { 'idempotency-key': 'answer-1' });
    expect(otherWithKey.statusCode).toBe(409);
    expect(otherWithKey.json()).toMatchObject({ code: 'INPUT_CONFLICT' });

    await waitForTask(h.engine, id, ['completed']);
    const done = (await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME })).json();
    expect(done).toMatchObject({ status: 'completed', pendingInput: null });
    expect(JSON.parse(done.result)).toEqual({ kind: 'answer', answer: 'blue' });

    // Over: 409 not awaiting input, unless it is the same key and body (a retry of the first).
    const late = await input(id, { answer: 'red' });
    expect(late.statusCode).toBe(409);
    expect(late.json()).toMatchObject({ code: 'TASK_NOT_AWAITING_INPUT', type: 'urn:baton:problem:task-not-awaiting-input', taskId: id });
    expect((await input(id, { answer: 'blue' }, { 'idempotency-key': 'answer-1' })).statusCode).toBe(202);
  });

  test('a second, different answer without a key is 409; the same answer again is a replay', async () => {
    const id = await waitingTask('s-q2', 'ask');
    // The worker is stopped from taking it back in between: both land while the task still waits.
    await worker.worker.pause(true);
    try {
      expect((await input(id, { answer: 'blue' })).statusCode).toBe(202);
      const same = await input(id, { answer: 'blue' });
      expect(same.statusCode).toBe(202);
      expect(same.headers['idempotent-replayed']).toBe('true');
      const other = await input(id, { answer: 'red' });
      expect(other.statusCode).toBe(409);
      expect(other.json()).toMatchObject({ code: 'INPUT_CONFLICT', detail: expect.stringContaining('call_q') });
    } finally {
      worker.worker.resume();
    }
    await waitForTask(h.engine, id, ['completed']);
  });

  test('an approval: pendingInput names the tool and its arguments; a denial with feedback reaches the task', async () => {
    const id = await waitingTask('s-a', 'approve');
    expect((await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME })).json().pendingInput).toEqual({
      kind: 'approval',
      tool: 'execute_command',
      arguments: { command: 'ls -la' },
      toolCallId: 'call_a',
      askedAt: expect.any(String),
    });
    const answer = await input(id, { answer: 'yes' });
    expect(answer.statusCode).toBe(422);
    expect(answer.json().detail).toContain('{"approved": true|false');
    expect((await input(id, { approved: false, feedback: 'not in prod' })).statusCode).toBe(202);
    await waitForTask(h.engine, id, ['completed']);
    const done = (await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME })).json();
    expect(JSON.parse(done.result)).toEqual({ kind: 'approval', approved: false, feedback: 'not in prod' });
  });

  test('bodies are strict, with errors that say what to send', async () => {
    const id = await waitingTask('s-bad', 'ask');
    const cases: [unknown, RegExp][] = [
      [{}, /send \{"answer": "\.\.\."\} to answer a question/],
      [{ answer: 'x', approved: true }, /answer and approved exclude each other/],
      [{ answer: 'x', feedback: 'y' }, /feedback goes with approved/],
      [{ answer: '' }, /answer must not be empty/],
      [{ approved: 'yes' }, /approved/],
      [{ answer: 'x', extra: 1 }, /extra|unrecognized/i],
    ];
    for (const [payload, message] of cases) {
      const res = await input(id, payload);
      expect({ payload, status: res.statusCode }).toEqual({ payload, status: 400 });
      expect(res.json().detail).toMatch(message);
    }
    expect((await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME })).json().status).toBe('awaiting_input');
    expect((await input(id, { answer: 'ok' })).statusCode).toBe(202);
    await waitForTask(h.engine, id, ['completed']);
  });

  test('404 for another tenant (nothing delivered) and for an unknown task', async () => {
    const id = await waitingTask('s-t', 'ask');
    const res = await input(id, { answer: 'intruder' }, GLOBEX);
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'TASK_NOT_FOUND' });
    expect((await h.app.inject({ url: `/v1/tasks/${id}`, headers: ACME })).json().pendingInput).toMatchObject({ kind: 'question' });
    expect((await input('t_missing', { answer: 'x' })).statusCode).toBe(404);
    expect((await input(id, { answer: 'mine' })).statusCode).toBe(202);
    await waitForTask(h.engine, id, ['completed']);
  });

  test('OpenAPI documents the route', async () => {
    const res = await h.app.inject({ url: '/openapi.json', headers: ACME });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    const route = doc.paths['/v1/tasks/{taskId}/input'].post;
    expect(Object.keys(route.responses)).toEqual(expect.arrayContaining(['202', '400', '404', '409', '422']));
    expect(Object.keys(route.requestBody.content['application/json'].schema.properties).sort()).toEqual(['answer', 'approved', 'feedback']);
    expect(doc.components.schemas.Task.properties).toHaveProperty('pendingInput');
  });
});
