import { Engine } from '@baton/core';
import { cleanupPrefix, rateLimitedPolicy, REDIS_URL, startFakeProvider, testPrefix } from '@baton/testkit';
import { startTestWorker } from '../test-utils/harness';
import type { WorkerApp } from '../worker-app';

/**
 * The shared limiter's proof: a fake provider that allows R requests per
 * window (429 with retry-after and x-ratelimit-* beyond), 4 in-process
 * workers, 200 sessions of one single-turn task each; once with
 * LLM_SHARED_LIMITER=true and once with false. Prints the 429s and the
 * throughput of both and asserts the shared limiter draws far fewer 429s,
 * every task completes, and no session ever has two requests in flight.
 */
const WORKERS = 4;
const CONCURRENCY = 16;
const SESSIONS = 200;
const R = 20;
const WINDOW_MS = 500;

interface RunResult {
  rejected: number;
  admitted: number;
  admittedKeys: number;
  seconds: number;
  tasksPerSecond: number;
  maxInFlightPerSession: number;
  statuses: Record<string, string>;
}

async function run(shared: boolean): Promise<RunResult> {
  const prefix = testPrefix(`limiter-${shared ? 'on' : 'off'}`);
  const limited = rateLimitedPolicy({ requests: R, windowMs: WINDOW_MS });
  const fake = await startFakeProvider({ apiKey: 'sk-test', policy: limited.policy });
  const engine = new Engine(REDIS_URL, { prefix });
  const apps: WorkerApp[] = [];
  try {
    const env = {
      LLM_BASE_URL: fake.url,
      LLM_SHARED_LIMITER: String(shared),
      // Whole answers: the proof needs the provider's rate limit, not the answers' duration, to set the pace
      // (a streamed answer holds its slot for the whole stream, so fewer requests reach the limit at all).
      LLM_STREAM: 'false',
      LLM_MAX_ATTEMPTS: '200',
      WORKER_CONCURRENCY: String(CONCURRENCY),
      LLM_TIMEOUT_MS: '10000',
    };
    for (let i = 0; i < WORKERS; i++) apps.push(await startTestWorker({ prefix, env }));
    // Every job end (completed, or failed for good) on any worker counts once.
    let ended = 0;
    let allEnded!: () => void;
    const done = new Promise<void>((resolve) => (allEnded = resolve));
    for (const app of apps) {
      app.taskWorker.worker.on('completed', () => {
        if (++ended === SESSIONS) allEnded();
      });
    }
    const ids = Array.from({ length: SESSIONS }, (_, i) => `t${i}`);
    const started = Date.now();
    // steps=0: the orchestrator answers attempt_completion at once (one model request per task).
    await Promise.all(ids.map((id) => engine.submit({ sessionId: `s-${id}`, taskId: id, prompt: `single turn ${id} steps=0`, mode: 'orchestrator' })));
    await done;
    const seconds = (Date.now() - started) / 1000;
    const statuses: Record<string, string> = {};
    for (const id of ids) statuses[id] = (await engine.getTask(id))?.status ?? 'missing';
    return {
      rejected: limited.rejected(),
      admitted: limited.admitted(),
      admittedKeys: limited.admittedKeys(),
      seconds,
      tasksPerSecond: SESSIONS / seconds,
      maxInFlightPerSession: fake.maxInFlightPerSession(),
      statuses,
    };
  } finally {
    await Promise.all(apps.map((a) => a.close(2000)));
    await engine.close();
    await fake.close();
    await cleanupPrefix(prefix);
  }
}

describe('one rate limiter for all workers (4 workers, 200 sessions, R requests per window)', () => {
  it('the shared limiter draws far fewer 429s than each worker backing off alone; every task completes, in order', async () => {
    const off = await run(false);
    const on = await run(true);
    const windows = (r: RunResult) => Math.ceil((r.seconds * 1000) / WINDOW_MS);
    const line = (name: string, r: RunResult) =>
      `${name}: ${r.rejected} x 429 over ~${windows(r)} windows, ${r.admitted} admitted, ${r.seconds.toFixed(2)} s, ${r.tasksPerSecond.toFixed(1)} tasks/s`;
    // 429s drawn with and without the shared limiter, printed for bench/RESULTS.md (which quotes them).
    console.log(
      [
        `limiter: ${WORKERS} workers x ${CONCURRENCY}, ${SESSIONS} sessions, ${R} requests per ${WINDOW_MS} ms`,
        line('shared limiter off', off),
        line('shared limiter on ', on),
      ].join('\n'),
    );
    for (const r of [off, on]) {
      expect(Object.values(r.statuses).filter((s) => s !== 'completed')).toEqual([]);
      // One admitted request per task's turn. A turn is sent again only when its worker gave up on an
      // admitted attempt (LLM_TIMEOUT_MS on a starved machine), under the same key: counted once.
      expect(r.admittedKeys).toBe(SESSIONS);
      expect(r.maxInFlightPerSession).toBe(1);
    }
    // Before anything is known, the first burst is refused either way (concurrency beyond R); after
    // that, the shared limiter lets at most a few through per window that the provider refuses.
    const firstBurst = WORKERS * CONCURRENCY - R;
    expect(on.rejected).toBeLessThanOrEqual(firstBurst + 3 * windows(on));
    expect(on.rejected * 3).toBeLessThan(off.rejected);
  }, 90_000);
});
