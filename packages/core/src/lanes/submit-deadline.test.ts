import { ON_CLUSTER, waitUntil } from '@baton/testkit';
import { redisFailure } from '../redis-failure';
import { DeadlineExceededError } from '../answer-deadline';
import type { Engine } from '../engine';
import { Harness } from '../testing/harness';

/** A fail-fast connection refuses commands until it is connected. */
const connected = (engine: Engine) =>
  engine.redis.status === 'ready' ? Promise.resolve() : new Promise<void>((resolve) => engine.redis.once('ready', () => resolve()));

/** A PING on the engine's connection is answered only after the commands sent before it ran. */
const drained = (engine: Engine) =>
  waitUntil(
    () =>
      engine.redis.ping().then(
        () => true,
        () => false,
      ),
    5000,
  );

/**
 * A submission whose command timed out must never be applied later, when a
 * slow or frozen Redis gets to it. Redis runs one connection's commands in
 * order, so a BLPOP sent first holds the submit script back on the server
 * (as a frozen Redis would) while the client's command timeout fires.
 */
// On a cluster the BLPOP and the script go to different nodes, so one cannot hold back the other.
(ON_CLUSTER ? describe.skip : describe)('submit deadline', () => {
  const h = new Harness('deadline', { commandTimeoutMs: 100 });
  afterAll(() => h.close());

  it('a submission that timed out is refused when Redis runs it after its deadline: nothing is written', async () => {
    const engine = h.engine();
    await connected(engine);
    const { keys } = engine;
    // Holds this connection on the server for 600 ms; the client gives up on it after 100 ms.
    const blocker = engine.redis.blpop(`${h.prefix}:nothing`, 0.6).catch((err: unknown) => err);

    const err = await engine.submit({ sessionId: 'late', prompt: 'too late', tenant: 't', taskId: 'late-1' }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(redisFailure(err)).toEqual({ kind: 'timeout', maybeApplied: true });
    expect(redisFailure(await blocker)).toEqual({ kind: 'timeout', maybeApplied: true });

    await drained(engine);
    expect(await engine.redis.exists(keys.task('late', 'late-1'), keys.session('late'), keys.lane('late'), keys.events('late'))).toBe(0);
    expect(await engine.getTask('late-1')).toBeNull();
  });

  it('a request whose earlier commands spent half its budget is refused without sending anything', async () => {
    const engine = h.engine();
    await connected(engine);
    const err = await engine.submit({ sessionId: 'spent', prompt: 'p', tenant: 't', taskId: 'spent-1' }, { receivedAt: Date.now() - 60 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(redisFailure(err)).toEqual({ kind: 'timeout', maybeApplied: false });
    expect(await engine.redis.exists(engine.keys.task('spent', 'spent-1'), engine.keys.session('spent'), engine.keys.taskIndex('spent-1'))).toBe(0);
  });

  it("the submission answers within one command timeout of the request's arrival, not of its own send", async () => {
    const engine = h.engine();
    await connected(engine);
    const { keys } = engine;
    const blocker = engine.redis.blpop(`${h.prefix}:nothing`, 0.6).catch((err: unknown) => err);
    // Arrived 40 ms ago: the script must run within 10 ms and the answer come within 60 ms, before the
    // client's own 100 ms command timeout (timers fire in order of expiry, so this is not a race).
    const err = await engine.submit({ sessionId: 'budget', prompt: 'p', tenant: 't', taskId: 'budget-1' }, { receivedAt: Date.now() - 40 }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DeadlineExceededError);
    expect(redisFailure(err)).toEqual({ kind: 'timeout', maybeApplied: true });
    await blocker;
    await drained(engine);
    // Redis reached the script after its deadline: refused, nothing written.
    expect(await engine.redis.exists(keys.task('budget', 'budget-1'), keys.session('budget'), keys.lane('budget'))).toBe(0);
  });

  it('a submission Redis runs in time is applied as usual', async () => {
    const engine = h.engine();
    await connected(engine);
    const { task } = await engine.submit({ sessionId: 'on-time', prompt: 'in time', tenant: 't', taskId: 'on-time-1' });
    expect(task.id).toBe('on-time-1');
    expect(await engine.getTask('on-time-1')).toMatchObject({ status: 'queued' });
  });
});
