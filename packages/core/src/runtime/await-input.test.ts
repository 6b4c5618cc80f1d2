import { deferred, type Deferred } from '@baton/testkit';
import { isBatonError } from '../errors';
import type { Message } from '../model/message';
import type { BatonEvent } from '../model/event';
import type { Engine } from '../engine';
import { Harness } from '../testing/harness';
import type { TaskHandler } from './task-worker';
import type { TaskContext } from './task-context';

/**
 * The human in the loop at the engine level: a handler that, like the agent
 * loop, replays from its conversation. Turn 1's "model" asks a question (tool
 * call `call_1`); the answer becomes the tool result; turn 2's "model"
 * completes with it. Each gate call (a model request) is counted by turn, so
 * "exactly one next model request" is checked at the request gate.
 * Prompt `plain` completes at once without asking (another session's work).
 */
class AskingModel {
  readonly calls = new Map<string, number>();
  /** Runs of the handler, by worker name. */
  readonly runs: string[] = [];
  /** When set, turn 2's model call waits for it (a request in flight). */
  turn2Hold: Deferred<void> | undefined;
  readonly turn2Started = deferred();
  /** Awaited (by worker name) after the answer is read and before its tool result is appended. */
  afterAnswer: ((worker: string) => Promise<void>) | undefined;

  count(taskId: string, turn: number): number {
    return this.calls.get(`${taskId}:${turn}`) ?? 0;
  }

  handler(name = 'w'): TaskHandler {
    return async (ctx: TaskContext) => {
      this.runs.push(name);
      if (ctx.task.prompt === 'plain') return { status: 'completed', result: 'plain done' };
      let messages: Message[] = await ctx.messages();
      if (messages.length === 0) await ctx.append(0, [{ role: 'user', content: ctx.task.prompt }]);
      messages = await ctx.messages();
      if (messages.length === 1) {
        await ctx.checkpoint(1);
        const { response } = await ctx.gate(1, async () => {
          this.bump(ctx.taskId, 1);
          const msg: Message = {
            role: 'assistant',
            content: null,
            tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'ask_followup_question', arguments: '{}' } }],
          };
          return msg;
        });
        await ctx.append(1, [response]);
        messages = await ctx.messages();
      }
      if (messages.length === 2) {
        const input = await ctx.awaitInput('call_1', { kind: 'question', question: 'Which colour?', followUp: ['red', 'blue'] });
        await this.afterAnswer?.(name);
        const content = input.kind === 'answer' ? `<answer>${input.answer}</answer>` : 'unexpected';
        await ctx.append(2, [{ role: 'tool', tool_call_id: 'call_1', content }]);
        messages = await ctx.messages();
      }
      await ctx.checkpoint(2);
      const { response } = await ctx.gate(2, async (signal) => {
        this.bump(ctx.taskId, 2);
        this.turn2Started.resolve();
        if (this.turn2Hold) {
          await new Promise<void>((resolve, reject) => {
            signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
            void this.turn2Hold!.promise.then(resolve);
          });
        }
        const tool = messages[2];
        return `done with ${tool && tool.role === 'tool' ? tool.content : '?'}`;
      });
      return { status: 'completed', result: response };
    };
  }

  private bump(taskId: string, turn: number): void {
    const key = `${taskId}:${turn}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }
}

const isEvent = (taskId: string, type: string) => (e: BatonEvent) => e.taskId === taskId && e.type === type;

describe('awaiting input (the human in the loop)', () => {
  let h: Harness;
  beforeEach(() => {
    h = new Harness('input');
  });
  afterEach(() => h.close());

  async function asked(engine: Engine, sessionId: string, taskId: string): Promise<BatonEvent> {
    return h.event(engine, sessionId, isEvent(taskId, 'task.input_required'));
  }

  it('parks with pendingInput and task.input_required; the answer resumes it with one more model request', async () => {
    const model = new AskingModel();
    await h.worker(model.handler());
    const api = h.engine();
    const { task } = await api.submit({ sessionId: 'q1', prompt: 'ask me' });
    const event = await asked(api, 'q1', task.id);
    expect(event.data).toEqual({ kind: 'question', question: 'Which colour?', followUp: ['red', 'blue'], toolCallId: 'call_1' });

    const waiting = (await api.getTask(task.id))!;
    expect(waiting.status).toBe('awaiting_input');
    expect(waiting.pendingInput).toEqual({
      kind: 'question',
      question: 'Which colour?',
      followUp: ['red', 'blue'],
      toolCallId: 'call_1',
      askedAt: expect.any(String),
    });
    expect(Date.parse(waiting.pendingInput!.askedAt)).toBeGreaterThan(0);

    const { replayed, toolCallId, task: after } = await api.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'blue' } });
    expect({ replayed, toolCallId }).toEqual({ replayed: false, toolCallId: 'call_1' });
    expect(after.pendingInput).toBeNull();
    const received = await h.event(api, 'q1', isEvent(task.id, 'task.input_received'));
    expect(received.data).toEqual({ toolCallId: 'call_1', kind: 'answer', answer: 'blue' });

    const done = await h.settled(api, task.id);
    expect(done.status).toBe('completed');
    expect(done.result).toBe('done with <answer>blue</answer>');
    expect(done.pendingInput).toBeNull();
    expect([model.count(task.id, 1), model.count(task.id, 2)]).toEqual([1, 1]);
    const tools = (await api.getMessages(task.id))!.filter((m) => m.role === 'tool');
    expect(tools).toHaveLength(1);
  });

  it('refuses a response of the wrong kind (422-style) and input to a task that is not waiting (409-style)', async () => {
    const model = new AskingModel();
    await h.worker(model.handler());
    const api = h.engine();
    const { task } = await api.submit({ sessionId: 'q2', prompt: 'ask me' });
    await asked(api, 'q2', task.id);
    await expect(api.deliverInput({ taskId: task.id, response: { kind: 'approval', approved: true } })).rejects.toMatchObject({
      code: 'INPUT_KIND_MISMATCH',
      message: expect.stringContaining('send {"answer": "..."}'),
    });
    await expect(api.deliverInput({ taskId: 'nope', response: { kind: 'answer', answer: 'x' } })).rejects.toMatchObject({ code: 'TASK_NOT_FOUND' });
    await api.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'red' } });
    await h.settled(api, task.id);
    await expect(api.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'red' } })).rejects.toMatchObject({
      code: 'TASK_NOT_AWAITING_INPUT',
      details: { status: 'completed' },
    });
  });

  it('a worker with concurrency 1 serves another session while a task waits for input', async () => {
    const model = new AskingModel();
    await h.worker(model.handler(), { concurrency: 1 });
    const api = h.engine();
    const { task: waiting } = await api.submit({ sessionId: 'c1', prompt: 'ask me' });
    await asked(api, 'c1', waiting.id);
    const { task: other } = await api.submit({ sessionId: 'c2', prompt: 'plain' });
    expect((await h.settled(api, other.id)).result).toBe('plain done');
    expect((await api.getTask(waiting.id))!.status).toBe('awaiting_input');
    await api.deliverInput({ taskId: waiting.id, response: { kind: 'answer', answer: 'red' } });
    expect((await h.settled(api, waiting.id)).status).toBe('completed');
  });

  it('an answer posted many times at once, from several clients, gives exactly one next model request', async () => {
    const model = new AskingModel();
    await h.worker(model.handler('w1'));
    await h.worker(model.handler('w2'));
    const clients = [h.engine(), h.engine(), h.engine()];
    const [api] = clients as [Engine, ...Engine[]];
    const { task } = await api.submit({ sessionId: 'd1', prompt: 'ask me' });
    await asked(api, 'd1', task.id);
    const same = { taskId: task.id, response: { kind: 'answer' as const, answer: 'blue' } };
    const results = await Promise.allSettled([
      ...clients.map((c) => c.deliverInput({ ...same, idempotencyKey: 'k1' })),
      ...clients.map((c) => c.deliverInput(same)),
      ...clients.map((c) => c.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'red' } })),
    ]);
    const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const refused = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []));
    // Either "blue" (6 calls) or "red" (3 calls) was first; the other answer is refused.
    expect(ok.filter((r) => !r.replayed)).toHaveLength(1);
    expect(refused.every((e) => isBatonError(e, 'INPUT_CONFLICT') || isBatonError(e, 'TASK_NOT_AWAITING_INPUT'))).toBe(true);
    expect(ok.length + refused.length).toBe(9);
    const winner = ok.length === 6 ? 'blue' : 'red';
    expect([6, 3]).toContain(ok.length);

    const done = await h.settled(api, task.id);
    expect(done.result).toBe(`done with <answer>${winner}</answer>`);
    expect(model.count(task.id, 2)).toBe(1);
    // The same key with the same answer still replays after the task finished; with another, 409.
    if (winner === 'blue') {
      expect((await api.deliverInput({ ...same, idempotencyKey: 'k1' })).replayed).toBe(true);
      await expect(api.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'red' }, idempotencyKey: 'k1' })).rejects.toMatchObject({
        code: 'INPUT_CONFLICT',
      });
    }
  });

  it('an answer racing a cancel: at most one next model request, and the task ends cancelled', async () => {
    const model = new AskingModel();
    model.turn2Hold = deferred();
    await h.worker(model.handler());
    const [a, b] = [h.engine(), h.engine()];
    const { task } = await a.submit({ sessionId: 'r1', prompt: 'ask me' });
    await asked(a, 'r1', task.id);
    const [delivered, cancelled] = await Promise.allSettled([
      a.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'blue' } }),
      b.cancel(task.id),
    ]);
    expect(cancelled.status).toBe('fulfilled');
    if (delivered.status === 'rejected') expect(delivered.reason).toMatchObject({ code: 'TASK_NOT_AWAITING_INPUT' });
    model.turn2Hold.resolve();
    const done = await h.settled(a, task.id);
    expect(done.status).toBe('cancelled');
    expect(model.count(task.id, 2)).toBeLessThanOrEqual(1);
    // The cancelled tree's root released its lease: the session takes the next root.
    const { task: next } = await a.submit({ sessionId: 'r1', prompt: 'plain' });
    expect((await h.settled(a, next.id)).status).toBe('completed');
    expect(model.count(task.id, 2)).toBeLessThanOrEqual(1);
  });

  it('an answer racing a pause and a resume gives exactly one next model request', async () => {
    const model = new AskingModel();
    await h.worker(model.handler('w1'));
    await h.worker(model.handler('w2'));
    const [a, b, c] = [h.engine(), h.engine(), h.engine()];
    const { task } = await a.submit({ sessionId: 'p1', prompt: 'ask me' });
    await asked(a, 'p1', task.id);
    await Promise.all([a.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'blue' } }), b.pause('p1'), c.resume('p1'), b.resume('p1')]);
    // Whatever the order, one more resume leaves the session running.
    await c.resume('p1');
    const done = await h.settled(a, task.id);
    expect(done.result).toBe('done with <answer>blue</answer>');
    expect([model.count(task.id, 1), model.count(task.id, 2)]).toEqual([1, 1]);
  });

  it('an answer delivered after the task parked but before its job moved to delayed is not lost', async () => {
    const model = new AskingModel();
    const w = await h.worker(model.handler());
    const workerEngine = h.engines[h.engines.length - 1]!;
    const parked = deferred();
    const proceed = deferred();
    workerEngine.ctx.racepoints.beforeInputParkMove = async () => {
      workerEngine.ctx.racepoints.beforeInputParkMove = undefined;
      parked.resolve();
      await proceed.promise;
    };
    const api = h.engine();
    const { task } = await api.submit({ sessionId: 'win', prompt: 'ask me' });
    await parked.promise;
    // The job is still active: the delivery's promote finds no delayed job.
    await api.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'blue' } });
    expect(await api.queue.getJobState(task.id)).toBe('active');
    proceed.resolve();
    const done = await h.settled(api, task.id);
    expect(done.result).toBe('done with <answer>blue</answer>');
    expect(model.count(task.id, 2)).toBe(1);
    expect(w).toBeDefined();
  });

  it('a task that waits longer than the input timeout fails with INPUT_TIMEOUT (the delayed job is the timer)', async () => {
    const model = new AskingModel();
    await h.worker(model.handler(), { awaitingInputTimeoutMs: 1000 });
    const api = h.engine();
    const { task } = await api.submit({ sessionId: 't1', prompt: 'ask me' });
    await asked(api, 't1', task.id);
    const done = await h.settled(api, task.id);
    expect(done.status).toBe('failed');
    expect(done.error).toEqual({ code: 'INPUT_TIMEOUT', message: expect.stringContaining('1000 ms') });
    expect(model.count(task.id, 2)).toBe(0);
    await expect(api.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'late' } })).rejects.toMatchObject({
      code: 'TASK_NOT_AWAITING_INPUT',
    });
  });

  it('no worker runs while the question waits: the answer is kept and the next worker completes the task', async () => {
    const model = new AskingModel();
    const w1 = await h.worker(model.handler('w1'));
    const api = h.engine();
    const { task } = await api.submit({ sessionId: 'k1', prompt: 'ask me' });
    await asked(api, 'k1', task.id);
    // The processor has parked the job (delayed) and given its slot back; then the worker goes.
    await w1.idle();
    expect(await api.queue.getJobState(task.id)).toBe('delayed');
    await w1.close(true);
    await api.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'green' } });
    expect((await api.getTask(task.id))!.status).toBe('awaiting_input');
    await h.worker(model.handler('w2'));
    const done = await h.settled(api, task.id);
    expect(done.result).toBe('done with <answer>green</answer>');
    expect(model.runs).toEqual(['w1', 'w2']);
    expect([model.count(task.id, 1), model.count(task.id, 2)]).toEqual([1, 1]);
  });

  it('a worker that dies after reading the answer and before appending it: the next runner uses the same answer, once', async () => {
    const model = new AskingModel();
    const read = deferred();
    const hang = deferred();
    model.afterAnswer = async (worker) => {
      if (worker !== 'w1') return;
      read.resolve();
      await hang.promise;
    };
    // Short locks, so the dead worker's job is found stalled and taken again.
    const fast = { lockDuration: 1000, stalledInterval: 1000 };
    const w1 = await h.worker(model.handler('w1'), fast);
    const api = h.engine();
    const { task } = await api.submit({ sessionId: 'crash', prompt: 'ask me' });
    await asked(api, 'crash', task.id);
    await api.deliverInput({ taskId: task.id, response: { kind: 'answer', answer: 'blue' } });
    await read.promise;
    await w1.close(true); // the processor is still inside the handler: its job's lock lapses
    await h.worker(model.handler('w2'), fast);
    const done = await h.settled(api, task.id);
    expect(done.result).toBe('done with <answer>blue</answer>');
    // The dead runner wakes up: its append is refused (fenced), nothing doubles.
    hang.resolve();
    await w1.idle();
    const tools = (await api.getMessages(task.id))!.filter((m) => m.role === 'tool');
    expect(tools).toEqual([{ role: 'tool', tool_call_id: 'call_1', content: '<answer>blue</answer>' }]);
    expect(model.count(task.id, 2)).toBe(1);
    expect(model.runs).toEqual(['w1', 'w1', 'w2']);
  });
});
