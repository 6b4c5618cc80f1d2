import { deferred } from '@baton/testkit';
import { isBatonError } from '../errors';
import { conversationProblems } from '../model/message';
import type { TaskContext } from './task-context';
import { Harness } from '../testing/harness';
import { plan, planHandler } from '../testing/plan-handler';

describe('stale runner', () => {
  // A short gate lease: the fenced-out holder's renew (every third of it) fails quickly.
  const h = new Harness('stale', { gateLeaseMs: 900 });
  afterAll(() => h.close());

  it('a worker force-closed mid-turn loses the job to another worker and can neither commit nor append', async () => {
    const fast = { lockDuration: 1000, stalledInterval: 500, concurrency: 2 };
    const firstInCall = deferred<TaskContext>();
    const releaseFirst = deferred();
    let calls = 0;
    let firstSignal: AbortSignal | undefined;
    let firstAbortedBeforeSecondCall: boolean | undefined;
    const handler = planHandler({
      onCall: async (ctx, turn, signal) => {
        calls++;
        if (calls === 1) {
          firstSignal = signal;
          firstInCall.resolve(ctx);
          // The stale runner keeps "calling" even after its lease is gone.
          await releaseFirst.promise;
          return 'from-stale-runner';
        }
        firstAbortedBeforeSecondCall ??= firstSignal?.aborted;
        return `from-runner-${ctx.token}-turn-${turn}`;
      },
    });
    const engine = h.engine();
    const w1 = await h.worker(handler, fast);
    const { task } = await engine.submit({ sessionId: 'stale', prompt: plan({ children: [{ result: 'child' }] }) });
    const stale = await firstInCall.promise;
    const staleFenced = new Promise<Error>((resolve) => w1.on('fenced', (_id, err) => resolve(err)));

    // The worker dies as far as BullMQ is concerned: no lock renewals from now on.
    await w1.close(true);
    await h.worker(handler, fast);
    // The second worker re-takes the stalled job under a new runner token. It waits for the live
    // lease: the stale holder's renew fails, it aborts its call and abandons; then the new runner calls.
    const done = await h.settled(engine, task.id);
    expect(done.status).toBe('completed');
    // The stale request was aborted before the new runner called: never two at once.
    expect(firstAbortedBeforeSecondCall).toBe(true);

    // Now the stale runner's call returns: its commit is refused by the fence.
    releaseFirst.resolve();
    const err = await staleFenced;
    expect(isBatonError(err, 'STALE_RUNNER')).toBe(true);
    await expect(stale.append(1, [{ role: 'assistant', content: 'late write' }])).rejects.toMatchObject({ code: 'STALE_RUNNER' });

    const messages = (await engine.getMessages(task.id))!;
    expect(conversationProblems(messages)).toEqual([]);
    expect(messages.filter((m) => m.role === 'assistant')).toHaveLength(1);
    expect(messages[1]).toMatchObject({ role: 'assistant', content: expect.stringMatching(/^from-runner-\d+-turn-1$/) });
    expect(messages.some((m) => m.content === 'late write' || m.content === 'from-stale-runner')).toBe(false);
    // One committed response for turn 1, from the live runner.
    const committed = JSON.parse((await engine.gate.committed({ sessionId: 'stale', taskId: task.id, turn: 1 }))!);
    expect(committed.content).toBe(messages[1]!.content);
  });
});
