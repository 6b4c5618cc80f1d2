import { chatCompletion, toolCall, type FakeRequest } from '@baton/testkit';
import { BatonStack } from '../support/baton-stack';
import { taskEvent, waitForEvent, waitForStatus } from '../support/waits';
import { expectInvariants } from './expect-invariants';

/**
 * The human in the loop must not reopen the 3-request race: a question's
 * answer is a new trigger of the next model request, like a child's end or a
 * user message. Through Baton as deployed (API + 2 worker processes, the HTTP
 * fake), an answer posted twice at once, an answer racing a cancel, and an
 * answer racing a pause/resume each lead to exactly one next request (or none,
 * when the cancel wins), then the usual invariants. The races are real
 * concurrent HTTP requests; every outcome either order can produce is checked.
 */
describe('answers racing each other, a cancel and a pause/resume (api + 2 worker processes)', () => {
  let stack: BatonStack;

  beforeEach(async () => {
    stack = await BatonStack.start('input-races');
  });
  afterEach(async () => {
    await stack?.close();
  });

  /** A root (mode ask) whose first turn asks a question, and whose second turn completes with the answer. */
  async function askingRoot(sessionId: string): Promise<string> {
    const { task } = await stack.client.submit(sessionId, { prompt: 'ask first', mode: 'ask' });
    const id = task.id;
    stack.fake.setPolicy((r: FakeRequest) => {
      const turn = r.key?.match(/:(\d+)$/)?.[1];
      if (!r.key || !turn) return undefined;
      if (turn === '1')
        return { body: chatCompletion({ toolCalls: [toolCall('q1', 'ask_followup_question', { question: 'Go on?', follow_up: ['yes', 'no'] })] }) };
      const tools = (r.body.messages ?? []).filter((m) => m.role === 'tool');
      return { body: chatCompletion({ toolCalls: [toolCall('done', 'attempt_completion', { result: String(tools.at(-1)?.content) })] }) };
    });
    await waitForEvent(stack.client, sessionId, taskEvent(id, 'task.input_required'));
    return id;
  }

  it('the same answer posted twice at once, and a different one: one delivery, one next request', async () => {
    const id = await askingRoot('race-answer-twice');
    const posts = await Promise.allSettled([stack.client.answer(id, 'yes'), stack.client.answer(id, 'yes'), stack.client.answer(id, 'no')]);
    // The same answer twice is one delivery (a replay); the different one is refused (409), unless it won, and then both "yes" are refused.
    const ok = posts.filter((p) => p.status === 'fulfilled').length;
    expect([1, 2]).toContain(ok);
    for (const p of posts) if (p.status === 'rejected') expect(p.reason).toMatchObject({ status: 409 });
    const [done] = await waitForStatus(stack.client, [id]);
    expect(done!.status).toBe('completed');
    expect(stack.fake.stats.requestsByKey[`${id}:2`]).toBe(1);
    await expectInvariants(stack, [id]);
  });

  it('an answer racing a cancel: at most one next request, and the task ends in one final state', async () => {
    const id = await askingRoot('race-answer-cancel');
    await Promise.allSettled([stack.client.answer(id, 'yes'), stack.client.cancel(id)]);
    const [done] = await waitForStatus(stack.client, [id]);
    expect(['cancelled', 'completed']).toContain(done!.status);
    expect(stack.fake.stats.requestsByKey[`${id}:2`] ?? 0).toBeLessThanOrEqual(1);
    if (done!.status === 'completed') expect(stack.fake.stats.requestsByKey[`${id}:2`]).toBe(1);
    await expectInvariants(stack, [id]);
  });

  it('an answer racing a pause and a resume: exactly one next request', async () => {
    const sessionId = 'race-answer-pause';
    const id = await askingRoot(sessionId);
    await Promise.all([stack.client.answer(id, 'yes'), stack.client.pause(sessionId).then(() => stack.client.resume(sessionId))]);
    const [done] = await waitForStatus(stack.client, [id]);
    expect(done!.status).toBe('completed');
    expect(stack.fake.stats.requestsByKey[`${id}:2`]).toBe(1);
    await expectInvariants(stack, [id]);
  });
});
