/**
 * QUEUE_SHARDS=3 on real Redis: a session's tree lives in its shard's queue,
 * a pinned worker takes only its shards' jobs, the reconciler re-adds into
 * the right shard, and another shard count is refused while work is queued.
 */
import { REDIS_URL } from '@baton/testkit';
import { Engine } from './engine';
import { isBatonError } from './errors';
import { shardOfSession } from './queue-shards';
import { Reconciler } from './reconciler';
import { Harness } from './testing/harness';
import { plan, planHandler } from './testing/plan-handler';

const SHARDS = 3;

/** The first id `<name>-<i>` that maps to `shard`. */
function sessionIn(shard: number, name: string, shards = SHARDS): string {
  for (let i = 0; ; i++) if (shardOfSession(`${name}-${i}`, shards) === shard) return `${name}-${i}`;
}

/** The shards whose queue holds a job with this id. */
async function shardsHolding(engine: Engine, jobId: string): Promise<number[]> {
  const found = await Promise.all(engine.ctx.queues.queues.map((q) => q.getJob(jobId)));
  return found.flatMap((job, shard) => (job ? [shard] : []));
}

describe('queue shards: a session tree stays in its shard', () => {
  const h = new Harness('qshard-tree', { queueShards: SHARDS });
  const ranFrom = new Map<string, string[]>();
  afterAll(() => h.close());

  it('runs the root and its subtasks (nested too) from the queue of the session’s shard; the parent resumes once per child', async () => {
    const engine = h.engine();
    await h.worker(planHandler({ onRun: (ctx) => ranFrom.set(ctx.taskId, [...(ranFrom.get(ctx.taskId) ?? []), ctx.job.queueQualifiedName]) }));
    const sessionId = sessionIn(2, 'tree');
    const { task } = await engine.submit({ sessionId, prompt: plan({ children: [{ result: 'a' }, { children: [{ result: 'leaf' }] }] }) });
    const done = await h.settled(engine, task.id);
    expect(done.result).toBe('completed: a | completed: completed: leaf');

    const shard2 = `${engine.keys.queuePrefixOf(2, SHARDS)}:tasks`;
    const child1 = done.childIds[0]!;
    const child2 = done.childIds[1]!;
    const grandchild = (await engine.getTask(child2))!.childIds[0]!;
    for (const id of [task.id, child1, child2, grandchild]) {
      expect(await shardsHolding(engine, id)).toEqual([2]);
      expect(new Set(ranFrom.get(id))).toEqual(new Set([shard2]));
    }
    // First run + one resume per child, nothing more (one flow, no lost or doubled wake-up).
    expect(ranFrom.get(task.id)).toHaveLength(3);
    expect((await engine.readEvents(sessionId)).filter((e) => e.taskId === task.id && e.type === 'task.resumed')).toHaveLength(2);
    // The other shards saw no job at all.
    for (const shard of [0, 1]) {
      const counts = await engine.ctx.queues.queues[shard]!.getJobCounts('waiting', 'active', 'delayed', 'waiting-children', 'completed', 'failed');
      expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
    }
  });
});

describe('queue shards: pinned workers', () => {
  const h = new Harness('qshard-pin', { queueShards: SHARDS });
  afterAll(() => h.close());

  it('a worker pinned to shard 1 takes only shard-1 jobs; a shard-0 job waits for a worker of shard 0', async () => {
    const engine = h.engine();
    const pinned = await h.worker(planHandler(), { shards: [1] });
    expect(pinned.shards).toEqual([1]);
    const { task: other } = await engine.submit({ sessionId: sessionIn(0, 'pin'), prompt: plan({ result: 'zero' }) });
    const { task: mine } = await engine.submit({ sessionId: sessionIn(1, 'pin'), prompt: plan({ children: [{ result: 'child' }] }) });
    expect((await h.settled(engine, mine.id)).result).toBe('completed: child');
    // The shard-0 job was added before the shard-1 one; the pinned worker never polls its queue.
    expect(await engine.queueFor(sessionIn(0, 'pin')).getJobState(other.id)).toBe('waiting');

    await h.worker(planHandler(), { shards: [0] });
    expect((await h.settled(engine, other.id)).result).toBe('zero');
  });

  it('refuses a pin to a shard that does not exist', async () => {
    const engine = h.engine();
    const { TaskWorker } = await import('./runtime/task-worker');
    expect(() => new TaskWorker(engine, planHandler(), { shards: [0, 3], autorun: false })).toThrow(
      'worker pinned to queue shard(s) 3, but QUEUE_SHARDS is 3 (shards 0..2)',
    );
  });
});

describe('queue shards: reconciler', () => {
  const h = new Harness('qshard-reconcile', { queueShards: SHARDS });
  afterAll(() => h.close());

  it('re-adds a root job lost between the lane script and the add into the session’s shard', async () => {
    const engine = h.engine();
    const sessionId = sessionIn(2, 'lost');
    engine.ctx.racepoints.beforeJobAdd = async () => {
      throw new Error('simulated crash after the lane script');
    };
    await expect(engine.submit({ sessionId, prompt: plan({ result: 'recovered' }) })).rejects.toThrow('simulated crash');
    engine.ctx.racepoints.beforeJobAdd = undefined;
    const [taskId] = (await engine.getSession(sessionId)).activeTaskIds;
    expect(await shardsHolding(engine, taskId!)).toEqual([]);

    expect((await new Reconciler(engine, { graceMs: 0 }).reconcile()).redispatched).toBe(1);
    expect(await shardsHolding(engine, taskId!)).toEqual([2]);
    await h.worker(planHandler());
    expect((await h.settled(engine, taskId!)).result).toBe('recovered');
  });
});

describe('queue shards: changing the shard count', () => {
  const h = new Harness('qshard-guard', { queueShards: SHARDS });
  afterAll(() => h.close());
  const engineWith = (queueShards: number) => {
    const e = new Engine(REDIS_URL, { prefix: h.prefix, queueShards }, h.logger);
    h.engines.push(e);
    return e;
  };

  it('stores the first count, refuses another while a job is queued, and accepts it once the queues hold no work', async () => {
    const three = h.engine();
    expect(await three.checkQueueShards()).toEqual({ kind: 'first' });
    expect(await three.checkQueueShards()).toEqual({ kind: 'same' });

    const sessionId = sessionIn(2, 'guard');
    const { task } = await three.submit({ sessionId, prompt: plan({ result: 'drained' }) });
    const refused = await engineWith(2)
      .checkQueueShards()
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(isBatonError(refused, 'INVALID_CONFIG')).toBe(true);
    expect((refused as Error).message).toContain('QUEUE_SHARDS=2, but this deployment');
    expect((refused as Error).message).toContain(`runs with QUEUE_SHARDS=3 and its queues hold 1 unfinished job(s) (${three.keys.queuePrefixOf(2, 3)}: 1)`);
    expect(await three.redis.get(three.keys.queueShardsConfig())).toBe('3');

    // Drained: the job finishes (a finished job is history, not work), then the change is accepted.
    const worker = await h.worker(planHandler());
    await h.settled(three, task.id);
    await worker.close();
    const two = engineWith(2);
    expect(await two.checkQueueShards()).toEqual({ kind: 'changed', from: 3 });
    expect(await two.redis.get(two.keys.queueShardsConfig())).toBe('2');
    // The queues the new layout does not have (shards 1 and 2 of 3) are gone, finished job included.
    expect(await two.redis.keys(`${three.keys.queuePrefixOf(2, 3)}:*`)).toEqual([]);
  });
});
