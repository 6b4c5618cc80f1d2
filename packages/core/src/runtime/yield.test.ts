import { deferred } from '@baton/testkit';
import { Harness } from '../testing/harness';
import { plan, planHandler } from '../testing/plan-handler';
import type { TaskWorker } from './task-worker';

describe('graceful worker shutdown', () => {
  const h = new Harness('yield');
  afterAll(() => h.close());

  it('a closing worker hands its task back at the next turn boundary and another worker finishes it', async () => {
    const engine = h.engine();
    const ref: { w1?: TaskWorker } = {};
    let closing: Promise<void> | undefined;
    const callsByWorker: string[] = [];
    const closed = deferred();
    const handler = (name: string) =>
      planHandler({
        onRun: (ctx) => {
          // The parent's second run (after its first child) starts on w1: begin a graceful close now.
          if (name === 'w1' && ctx.taskId.split('.').length === 1 && ctx.task.childIds.length === 1 && !closing) {
            closing = ref.w1!.close().then(() => closed.resolve());
          }
        },
        onCall: (_ctx, turn) => {
          callsByWorker.push(`${name}:${turn}`);
        },
      });
    ref.w1 = await h.worker(handler('w1'));
    const { task } = await engine.submit({ sessionId: 'y', prompt: plan({ children: [{ result: 'a' }, { result: 'b' }] }) });
    await closed.promise;
    // w1 is gone; turn 2 was never called by it.
    expect(callsByWorker).toEqual(['w1:1']);
    expect((await engine.getTask(task.id))!.status).toBe('running');
    await h.worker(handler('w2'));
    const done = await h.settled(engine, task.id);
    expect(done.result).toBe('completed: a | completed: b');
    expect(callsByWorker).toEqual(['w1:1', 'w2:2']);
  });
});
