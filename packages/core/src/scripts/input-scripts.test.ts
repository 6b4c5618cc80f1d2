import { ScriptFixture } from './script-fixture';

describe('human-in-the-loop scripts', () => {
  const f = new ScriptFixture('input-scripts');
  const { scripts } = f;
  afterAll(() => f.close());
  const question = (toolCallId: string) => JSON.stringify({ kind: 'question', question: 'Which one?', followUp: ['a', 'b'], toolCallId });
  const ask = (sessionId: string, taskId: string, token: string, toolCallId = 'c1', timeoutMs = 0) =>
    scripts.askInput({ sessionId, taskId, token, toolCallId, kind: 'question', request: question(toolCallId), timeoutMs });
  const answer = (sessionId: string, taskId: string, text: string, idempotencyKey?: string) =>
    scripts.deliverInput({ sessionId, taskId, kind: 'answer', response: JSON.stringify({ kind: 'answer', answer: text }), idempotencyKey });

  describe('askInput', () => {
    it('parked (askedAt and Redis time), then delivered once a response is stored; staleToken for an old runner', async () => {
      const { taskId, token } = await f.running('ask');
      const parked = await ask('ask', taskId, token);
      expect(parked).toMatchObject({ kind: 'parked' });
      expect(parked.kind === 'parked' && parked.askedAt <= parked.now).toBe(true);
      expect(await f.redis.hget(f.keys.task('ask', taskId), 'status')).toBe('awaiting_input');
      expect(await answer('ask', taskId, 'b')).toEqual({ kind: 'stored', toolCallId: 'c1' });
      const { token: next } = (await scripts.startTask('ask', taskId)) as { token: string };
      expect(await ask('ask', taskId, token)).toEqual({ kind: 'staleToken' });
      expect(await ask('ask', taskId, next)).toEqual({ kind: 'delivered', response: JSON.stringify({ kind: 'answer', answer: 'b' }) });
    });

    it('parked again for the same tool call (the job re-run): the first askedAt kept, the request announced once', async () => {
      const { taskId, token } = await f.running('ask-again');
      const first = await ask('ask-again', taskId, token, 'c1', 60_000);
      const { token: next } = (await scripts.startTask('ask-again', taskId)) as { token: string };
      const again = await ask('ask-again', taskId, next, 'c1', 60_000);
      expect(again).toMatchObject({ kind: 'parked', askedAt: first.kind === 'parked' ? first.askedAt : -1 });
      const events = await f.redis.xrange(f.keys.events('ask-again'), '-', '+');
      expect(events.filter(([, fields]) => fields[1] === 'task.input_required')).toHaveLength(1);
    });

    it('timedOut once askedAt + timeout has passed; notRunning for a task that is not running', async () => {
      const { taskId, token } = await f.running('ask-timeout');
      expect(await ask('ask-timeout', taskId, token, 'c1', 1)).toMatchObject({ kind: 'parked' });
      // The wait is measured from the first ask: ask again (as the re-run job does) after it.
      await f.redis.hset(f.keys.task('ask-timeout', taskId), 'inputAskedAt', '1');
      const { token: next } = (await scripts.startTask('ask-timeout', taskId)) as { token: string };
      expect(await ask('ask-timeout', taskId, next, 'c1', 1)).toEqual({ kind: 'timedOut' });
      await scripts.transition({ sessionId: 'ask-timeout', taskId, to: 'failed' });
      expect(await ask('ask-timeout', taskId, next)).toEqual({ kind: 'notRunning', status: 'failed' });
      const other = await f.running('ask-not-running');
      await f.redis.hset(f.keys.task('ask-not-running', other.taskId), 'status', 'paused');
      expect(await ask('ask-not-running', other.taskId, other.token)).toEqual({ kind: 'notRunning', status: 'paused' });
    });
  });

  describe('deliverInput', () => {
    it('stored, replayed (same response, or same key), conflict (another response, or the key with another)', async () => {
      const { taskId, token } = await f.running('del');
      await ask('del', taskId, token);
      expect(await answer('del', taskId, 'yes', 'k1')).toEqual({ kind: 'stored', toolCallId: 'c1' });
      expect(await answer('del', taskId, 'yes', 'k1')).toEqual({ kind: 'replayed', toolCallId: 'c1' });
      expect(await answer('del', taskId, 'yes')).toEqual({ kind: 'replayed', toolCallId: 'c1' });
      expect(await answer('del', taskId, 'no')).toEqual({ kind: 'conflict', toolCallId: 'c1' });
      expect(await answer('del', taskId, 'no', 'k1')).toEqual({ kind: 'conflict', toolCallId: 'c1' });
      // Whoever promotes parked jobs (the caller, a resume, the reconciler) wakes it.
      expect(await f.redis.smembers(f.keys.parked('del'))).toEqual([taskId]);
    });

    it('notFound, notAwaitingInput (with the status), kindMismatch (with what was asked)', async () => {
      expect(await answer('del2', 'nope', 'x')).toEqual({ kind: 'notFound' });
      const { taskId, token } = await f.running('del2');
      expect(await answer('del2', taskId, 'x')).toEqual({ kind: 'notAwaitingInput', status: 'running' });
      await ask('del2', taskId, token);
      const approval = await scripts.deliverInput({
        sessionId: 'del2',
        taskId,
        kind: 'approval',
        response: JSON.stringify({ kind: 'approval', approved: true }),
      });
      expect(approval).toEqual({ kind: 'kindMismatch', requestKind: 'question' });
    });
  });
});
