/**
 * Durability: Redis with AOF `appendfsync always` on its own port,
 * the API and two workers on it, roots submitted over HTTP; in the middle of
 * the run Redis is killed with SIGKILL and restarted on the same port and
 * directory. Every task the API accepted (2xx) before the kill must complete,
 * and none twice: one task per Idempotency-Key (re-posting every key after
 * the run replays the same task), one `task.completed` event per task, well
 * formed conversations. Submissions that failed during the outage are retried
 * with the same key, as a client would.
 */
import { Engine } from '@baton/core';
import { BatonStack } from '../support/baton-stack';
import { checkInvariants } from '../support/invariants';
import { RedisServer } from '@baton/testkit';
import { waitForStatus } from '../support/waits';

export interface DurabilityOptions {
  /** Roots submitted in all (one per session), half before the kill. */
  roots: number;
  /** How long Redis stays down. */
  outageMs: number;
  log?: (line: string) => void;
}

export interface DurabilityResult {
  figures: Record<string, unknown>;
  checks: Record<string, boolean>;
}

export async function runDurability(options: DurabilityOptions): Promise<DurabilityResult> {
  const log = options.log ?? (() => undefined);
  const redis = await RedisServer.start('aof', ['--appendonly', 'yes', '--appendfsync', 'always']);
  let stack: BatonStack | undefined;
  let engine: Engine | undefined;
  try {
    const started = Date.now();
    stack = await BatonStack.start('durable', {
      redisUrl: redis.url,
      prefix: 'durable',
      workers: 2,
      fake: { latencyMs: 30 },
      apiEnv: { REQUEST_TIMEOUT_MS: '60000' },
    });
    const { client } = stack;
    const ids = new Map<string, string>(); // idempotency key -> task id
    const acceptedBeforeKill = new Set<string>();
    let killed = false;
    let submitFailures = 0;
    const submit = async (i: number): Promise<void> => {
      const key = `dur-${i}`;
      for (;;) {
        const before = !killed;
        try {
          const { task } = await client.submit(`dur-s${i}`, { prompt: `durable ${i} in 2 steps`, idempotencyKey: key });
          if (ids.has(key) && ids.get(key) !== task.id) throw new Error(`key ${key} made two tasks: ${ids.get(key)} and ${task.id}`);
          ids.set(key, task.id);
          if (before && !killed) acceptedBeforeKill.add(task.id);
          return;
        } catch (err) {
          if (err instanceof Error && err.message.includes('made two tasks')) throw err;
          submitFailures++;
          await new Promise((r) => setTimeout(r, 200)); // a client's retry delay, same key
        }
      }
    };
    const half = Math.floor(options.roots / 2);
    for (let i = 0; i < half; i++) await submit(i);
    // Let the first half get going (some trees mid-turn) before the crash.
    await stack.fake.nextRequest(() => stack!.fake.stats.total >= half);
    const inFlightAtKill = stack.fake.stats.inFlight;
    killed = true;
    await redis.crash();
    log(`redis killed (-9) with ${acceptedBeforeKill.size} roots accepted, ${inFlightAtKill} model requests in flight`);
    const rest = Promise.all(Array.from({ length: options.roots - half }, (_, j) => submit(half + j)));
    await new Promise((r) => setTimeout(r, options.outageMs)); // the outage (scenario time, not synchronisation)
    await redis.start();
    log('redis restarted on the same port and directory (AOF)');
    await rest;

    const rootIds = [...ids.values()];
    const tasks = await waitForStatus(client, rootIds, undefined, 120_000);
    const report = await checkInvariants(client, stack.fake, rootIds);
    // Every key again: each is a replay of the same task.
    const replays = await Promise.all(
      [...ids.entries()].map(async ([key, id]) => {
        const i = Number(key.slice(4));
        const again = await client.submit(`dur-s${i}`, { prompt: `durable ${i} in 2 steps`, idempotencyKey: key });
        return again.replayed && again.task.id === id;
      }),
    );
    engine = new Engine(redis.url, { prefix: 'durable' });
    let completedEvents = 0;
    const twice: string[] = [];
    for (const t of report.tasks) {
      const events = await engine.readEvents(t.sessionId, '0', 10_000);
      const n = events.filter((e) => e.type === 'task.completed' && e.taskId === t.id).length;
      completedEvents += n;
      if (n !== 1) {
        twice.push(`${t.id}: ${n} task.completed events`);
        log(`events of ${t.id}: ${JSON.stringify(events.filter((e) => e.taskId === t.id).map((e) => [e.id, e.type, e.data]))}`);
        log(`task: ${JSON.stringify(t)}`);
      }
    }
    const acceptedDone = tasks.filter((t) => acceptedBeforeKill.has(t.id) && t.status === 'completed').length;
    const figures = {
      roots: rootIds.length,
      acceptedBeforeKill: acceptedBeforeKill.size,
      acceptedBeforeKillCompleted: acceptedDone,
      tasks: report.tasks.length,
      completedTasks: report.tasks.filter((t) => t.status === 'completed').length,
      completedEvents,
      submitFailuresDuringOutage: submitFailures,
      modelRequestsInFlightAtKill: inFlightAtKill,
      repeatedKeys: Object.keys(report.repeatedKeys).length,
      maxInFlightPerSession: report.maxInFlightPerSession,
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    };
    const checks = {
      'every task accepted before the kill completed': acceptedDone === acceptedBeforeKill.size,
      'every root completed (after the restart too)': tasks.every((t) => t.status === 'completed'),
      'one task per idempotency key (replays)': replays.every(Boolean),
      'no task completed twice': twice.length === 0 && report.tasks.every((t) => t.status === 'completed'),
      'conversations well formed': Object.keys(report.conversationProblems).length === 0 && report.turnMismatches.length === 0,
      'at most one request in flight per session': report.maxInFlightPerSession <= 1,
      'requests beyond one per key <= requests in flight at the kill': Object.values(report.repeatedKeys).reduce((s, n) => s + n - 1, 0) <= inFlightAtKill,
    };
    if (twice.length) log(`completed twice: ${twice.slice(0, 5).join('; ')}`);
    return { figures, checks };
  } finally {
    await engine?.close();
    await stack?.close();
    await redis.destroy();
  }
}
