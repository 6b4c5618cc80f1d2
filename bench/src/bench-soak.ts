/**
 * 7. Soak: N single-turn tasks over S sessions through the real engine and
 * worker (the fake provider answering at once) with a short RETENTION_MS, on
 * a private redis-server started here (so DBSIZE and used_memory are ours
 * alone). Redis memory and key count before, at peak, and after expiry; after
 * expiry both must be back at the baseline, within a stated tolerance.
 *
 * Baseline: the worker has run a small warm-up batch and that batch has
 * expired. What a first run leaves for good, whatever the load, is then in
 * the baseline: the Lua script cache (Baton's and BullMQ's scripts, loaded on
 * first use), BullMQ's queue meta keys (`meta`, `id`), the session index key.
 */
import { Engine, TASK_QUEUE } from '@baton/core';
import { RedisServer } from '@baton/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import type { Worker } from 'bullmq';
import { startBatonWorker } from './baton-worker';
import type { RemoteFakeProvider } from './fake-provider-client';
import type { BenchOptions } from './options';
import { redisVersion } from './redis-probe';
import { footprint, inventory, PeakSampler, shapes, type Footprint, type Inventory } from './redis-footprint';
import { verdict, type BenchReport } from './report';
import { fmt, nowMs, pool, sleep } from './stats';

const SESSION_PREFIX = 'soak-';
/**
 * Keys that exist only at moments, whatever the load: the reconciler's lock
 * (held while it sweeps) and BullMQ's stalled-check marker (a key with a TTL
 * of the stalled interval). Either may be present when a sample is taken.
 */
const KEY_TOLERANCE = 2;
/**
 * used_memory that is not data and that no expiry gives back at once:
 * client query and output buffers of the ~10 connections (a few KiB to tens
 * of KiB each, depending on the last command and reply), the keyspace and
 * expires hash tables (resized in steps of powers of two, shrunk by the
 * server cron only when under 10% full), jemalloc size-class rounding.
 * The report shows the idle jitter (two baseline samples a second apart)
 * next to it; 512 KiB is about 1% of the peak of a full run.
 */
const MEMORY_SLACK = 512 * 1024;
const WARMUP_TASKS = 200;

/** Counts BullMQ job completions (every soak task is a single-turn root job). */
class Completions {
  completed = 0;
  failed = 0;
  private waiters: { n: number; resolve: () => void }[] = [];

  constructor(worker: Worker) {
    worker.on('completed', () => {
      this.completed++;
      this.wake();
    });
    worker.on('failed', () => {
      this.failed++;
      this.wake();
    });
  }

  private wake(): void {
    const done = this.completed + this.failed;
    this.waiters = this.waiters.filter((w) => (done >= w.n ? (w.resolve(), false) : true));
  }

  /** Resolves once `n` jobs ended (completed or failed) since the start. */
  until(n: number): Promise<void> {
    if (this.completed + this.failed >= n) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ n, resolve }));
  }
}

async function submitAll(engine: Engine, tasks: number, sessions: number, tag: string): Promise<void> {
  await pool(
    Array.from({ length: tasks }, (_, i) => i),
    64,
    async (i) => {
      await engine.submit({ sessionId: `${SESSION_PREFIX}${tag}${i % sessions}`, prompt: `soak ${tag}${i}`, mode: 'code' });
    },
  );
}

/** Polls `check` (every 250 ms) until it holds or `timeoutMs` passed; returns how long it took, or null. */
async function waitUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<number | null> {
  const t0 = nowMs();
  for (;;) {
    if (await check()) return nowMs() - t0;
    if (nowMs() - t0 > timeoutMs) return null;
    await sleep(250);
  }
}

const MiB = (bytes: number) => `${fmt(bytes / 1024 ** 2, 2)} MiB`;
const KiB = (bytes: number) => (Math.abs(bytes) < 10 * 1024 ? `${bytes} B` : `${fmt(bytes / 1024, 0)} KiB`);

export async function benchSoak(o: BenchOptions, fake: RemoteFakeProvider): Promise<BenchReport> {
  const server = await RedisServer.start('bench-soak', ['--maxmemory-policy', 'noeviction', '--appendonly', 'no']);
  const redis = new Redis(server.url);
  const prefix = 'baton';
  const retentionMs = o.soakRetentionMs;
  const n = o.soakTasks;
  const sessions = Math.max(1, Math.min(o.soakSessions, n));
  const expiryTimeoutMs = retentionMs + o.soakExpiryTimeoutMs;
  const eventsKey = `{${prefix}}:${TASK_QUEUE}:events`;
  const bytesOf = async (key: string) => Number((await redis.call('memory', 'usage', key, 'samples', '0')) ?? 0);
  const scopedLeft = async () => (await inventory(redis, SESSION_PREFIX)).scoped.length;
  await fake.reset();
  const app = await startBatonWorker({
    redisUrl: server.url,
    prefix,
    providerUrl: fake.url,
    concurrency: o.concurrency,
    env: { RETENTION_MS: String(retentionMs), RECONCILE_INTERVAL_MS: String(o.soakReconcileMs) },
  });
  const engine = new Engine(server.url, { prefix, retentionMs }, pino({ level: 'silent' }));
  const completions = new Completions(app.taskWorker.worker);
  try {
    const cold = await footprint(redis);
    await submitAll(engine, WARMUP_TASKS, Math.min(WARMUP_TASKS, 20), 'w');
    await completions.until(WARMUP_TASKS);
    const warmupExpiredMs = await waitUntil(async () => (await scopedLeft()) === 0, expiryTimeoutMs);
    if (warmupExpiredMs === null) {
      const left = await inventory(redis, SESSION_PREFIX);
      throw new Error(
        `soak: the warm-up's ${WARMUP_TASKS} tasks did not expire within ${expiryTimeoutMs} ms; left: ${shapes(left.scoped.map((k) => k.key))
          .slice(0, 8)
          .join(', ')}`,
      );
    }
    const before = await footprint(redis);
    await sleep(1000);
    const idleJitter = Math.abs((await footprint(redis)).usedMemory - before.usedMemory);
    const eventsBefore = await bytesOf(eventsKey);
    const inventoryBefore = await inventory(redis, SESSION_PREFIX);

    const sampler = new PeakSampler(redis, 250);
    const t0 = nowMs();
    const submitted = submitAll(engine, n, sessions, '');
    await submitted;
    const submitMs = nowMs() - t0;
    await completions.until(WARMUP_TASKS + n);
    const wallMs = nowMs() - t0;
    const peak = await sampler.stop();
    const stats = await fake.stats();

    // Back to the baseline: the key count, then memory (the hash tables shrink a little after the keys go).
    let eventsGrowth = 0;
    const memoryTolerance = () => eventsGrowth + MEMORY_SLACK;
    let after: Footprint = peak;
    const expiredMs = await waitUntil(async () => {
      after = await footprint(redis);
      eventsGrowth = Math.max(0, (await bytesOf(eventsKey)) - eventsBefore);
      return after.keys <= before.keys + KEY_TOLERANCE && after.usedMemory <= before.usedMemory + memoryTolerance();
    }, expiryTimeoutMs);
    const left: Inventory = await inventory(redis, SESSION_PREFIX);
    const workMembers = left.fixed.reduce((sum, k) => sum + k.workMembers, 0);
    const newFixed = left.fixed.filter((k) => !inventoryBefore.fixed.some((b) => b.key === k.key));

    const ended = completions.completed + completions.failed - WARMUP_TASKS;
    const keysOk = after.keys <= before.keys + KEY_TOLERANCE;
    const memoryOk = after.usedMemory <= before.usedMemory + memoryTolerance();
    const leftOk = left.scoped.length === 0 && workMembers === 0 && expiredMs !== null;
    const runOk = ended === n && completions.failed === 0 && stats.total === WARMUP_TASKS + n && stats.repeatedRequests === 0;
    const row = (metric: string, baton: string, target: string, ok: boolean | null, note = '') => ({
      bench: '7 soak',
      metric,
      baton,
      baseline: '',
      baselineName: '',
      target,
      verdict: ok === null ? ('' as const) : verdict(ok),
      note,
    });
    return {
      name: 'soak',
      title: '7. Soak: data lifecycle',
      rows: [
        row(
          `${n} single-turn tasks over ${sessions} sessions, RETENTION_MS=${retentionMs}: wall time s (tasks/s); failed`,
          `${fmt(wallMs / 1000, 1)} (${fmt((n / wallMs) * 1000, 0)}); ${completions.failed}`,
          `all ${n} completed, one request each`,
          runOk,
          `submit phase ${fmt(submitMs / 1000, 1)} s; provider requests ${stats.total - WARMUP_TASKS}`,
        ),
        row(
          'Redis keys (DBSIZE): before / peak / after expiry',
          `${before.keys} / ${peak.keys} / ${after.keys}`,
          `after <= before + ${KEY_TOLERANCE}`,
          keysOk,
          `cold start ${cold.keys}`,
        ),
        row(
          'Redis used_memory: before / peak / after expiry',
          `${MiB(before.usedMemory)} / ${MiB(peak.usedMemory)} / ${MiB(after.usedMemory)}`,
          `after <= before + BullMQ event-log growth (${KiB(eventsGrowth)}) + ${KiB(MEMORY_SLACK)}`,
          memoryOk,
          `after - before = ${KiB(after.usedMemory - before.usedMemory)}, without the event log ${KiB(after.usedMemory - before.usedMemory - eventsGrowth)}; idle jitter ${KiB(idleJitter)}; cold start ${MiB(cold.usedMemory)}`,
        ),
        row(
          'left after expiry: keys naming a session or task; index members naming one; time from last completion to baseline',
          `${left.scoped.length}; ${workMembers}; ${expiredMs === null ? `not within ${fmt(expiryTimeoutMs / 1000, 0)} s` : `${fmt(expiredMs / 1000, 1)} s`}`,
          `0; 0; within RETENTION_MS + ${fmt(o.soakExpiryTimeoutMs / 1000, 0)} s`,
          leftOk,
        ),
      ],
      notes: [
        `A private redis-server ${await redisVersion(redis)} (noeviction, no persistence) started by the bench, so DBSIZE and used_memory count this run only. One in-process worker (WorkerApp, concurrency ${o.concurrency}, RETENTION_MS=${retentionMs}, RECONCILE_INTERVAL_MS=${o.soakReconcileMs}) on the fake provider (own process, answering at once); tasks submitted through engine.submit, 64 at a time, mode \`code\` (one model turn ending in attempt_completion), ${n / sessions} roots per session, queued in their session lanes.`,
        `Baseline ("before"): after a warm-up of ${WARMUP_TASKS} tasks over 20 sessions had run and expired (${fmt((warmupExpiredMs ?? 0) / 1000, 1)} s after its last completion), so that what a first run creates once and for good is in it: the Lua script cache, BullMQ's queue meta keys, Baton's fixed keys. Cold start (worker started, nothing run): ${cold.keys} keys, ${MiB(cold.usedMemory)}. Peak: the maximum of samples taken every 250 ms during the run (trees of the first sessions expire while later ones still run, so not all ${n} trees are present at once).`,
        `Tolerance. Keys: +${KEY_TOLERANCE}, for keys that exist only at moments whatever the load (the reconciler's lock while it sweeps, BullMQ's stalled-check marker with its TTL). Memory: + the growth of BullMQ's queue event log (\`${eventsKey}\`, a stream BullMQ itself caps at about 10,000 entries, so it is bounded whatever the number of tasks: ${KiB(eventsBefore)} before, ${KiB(eventsBefore + eventsGrowth)} after) + ${KiB(MEMORY_SLACK)} for what is not data (client buffers of about 10 connections, the keyspace and expires hash tables that shrink by powers of two only under 10% fill, allocator size classes). And nothing may be left that names a session or a task: no key, and no member of a fixed set or list (the session index, BullMQ's job sets).`,
        `Fixed keys after expiry (${left.fixed.length}; new since the baseline: ${newFixed.length ? newFixed.map((k) => k.key).join(', ') : 'none'}): ${left.fixed.map((k) => `${k.key} (${k.type}, ${k.length} elements, ${KiB(k.bytes)})`).join('; ')}.`,
        ...(left.scoped.length
          ? [
              `Keys left that name a session or task: ${shapes(left.scoped.map((k) => k.key))
                .slice(0, 12)
                .join('; ')}.`,
            ]
          : []),
      ],
    };
  } finally {
    await app.close();
    await engine.close();
    redis.disconnect();
    await server.destroy();
  }
}
