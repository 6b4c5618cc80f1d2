import { Cluster } from 'ioredis';
import { TASK_STATUSES, type Engine } from '@baton/core';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Returns the same promise to every caller within `ttlMs` (one Redis read per scrape). */
function shared<T>(read: () => Promise<T>, ttlMs: number): () => Promise<T> {
  let last: { at: number; value: Promise<T> } | null = null;
  return () => {
    if (!last || Date.now() - last.at >= ttlMs) {
      const value = read();
      last = { at: Date.now(), value };
      value.catch(() => {
        last = null;
      });
    }
    return last.value;
  };
}

/** BullMQ states reported per queue. */
const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

/** Bounds on what one scrape may read from Redis; past them the numbers are partial (and say so). */
const MAX_SESSIONS = 10_000;
const MAX_SCANNED_KEYS = 100_000;
const TASK_COUNT_TTL_MS = 10_000;

/**
 * The API's Prometheus metrics. What Redis already knows is read at scrape
 * time (queue counts, sessions, lanes, leases, tasks by status); request
 * metrics are counted here. Gate outcomes, model requests in flight, turn and
 * model latency, provider errors and reconciler repairs happen in workers,
 * which expose them on their own METRICS_PORT.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;

  constructor(
    private readonly engine: Engine,
    openStreams: () => number,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'baton_api_' });

    this.httpDuration = new Histogram({
      name: 'baton_api_http_request_duration_seconds',
      help: 'HTTP request duration by route and status',
      labelNames: ['method', 'route', 'status_code'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });

    new Gauge({
      name: 'baton_api_sse_streams',
      help: 'Open Server-Sent Events streams (they share baton_api_sse_redis_connections)',
      registers,
      collect() {
        this.set(openStreams());
      },
    });

    new Gauge({
      name: 'baton_queue_jobs',
      help: 'BullMQ jobs per queue and state',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        const counts = await engine.queue.getJobCounts(...JOB_STATES);
        for (const state of JOB_STATES) this.set({ queue: engine.queue.name, state }, counts[state] ?? 0);
      },
    });

    // Each gauge collects on its own (prom-client collects metrics concurrently); one read per scrape is shared.
    const sessionStats = shared(() => this.sessionStats(), 1000);
    const taskCounts = shared(() => this.countTasks(), TASK_COUNT_TTL_MS);
    const gauge = (name: string, help: string, read: () => Promise<number>) =>
      new Gauge({
        name,
        help,
        registers,
        async collect() {
          this.set(await read());
        },
      });
    new Gauge({
      name: 'baton_sessions',
      help: 'Known sessions by status',
      labelNames: ['status'],
      registers,
      async collect() {
        const r = await sessionStats();
        this.reset();
        for (const [status, n] of r.byStatus) this.set({ status }, n);
      },
    });
    gauge('baton_lane_tasks', 'Root tasks waiting in session lanes (all sessions)', async () => (await sessionStats()).lane);
    gauge('baton_lane_length_max', 'Longest session lane', async () => (await sessionStats()).laneMax);
    gauge('baton_leases_held', 'Root trees holding a session lease (all sessions)', async () => (await sessionStats()).leases);
    gauge('baton_sessions_truncated', '1 when there were more sessions than one scrape reads (session numbers are partial)', async () =>
      (await sessionStats()).truncated ? 1 : 0,
    );
    new Gauge({
      name: 'baton_tasks',
      help: 'Tasks by status (cached for 10 s)',
      labelNames: ['status'],
      registers,
      async collect() {
        const r = await taskCounts();
        for (const status of TASK_STATUSES) this.set({ status }, r.counts.get(status) ?? 0);
      },
    });
    gauge('baton_tasks_truncated', '1 when the task count stopped at the scan bound (task numbers are partial)', async () =>
      (await taskCounts()).truncated ? 1 : 0,
    );
  }

  private async sessionStats() {
    const { redis, keys } = this.engine;
    const ids = await redis.zrange(keys.sessionIndex(), 0, MAX_SESSIONS - 1, 'REV');
    const total = await redis.zcard(keys.sessionIndex());
    const byStatus = new Map<string, number>([['idle', 0], ['running', 0], ['paused', 0]]);
    let laneTotal = 0;
    let laneMax = 0;
    let leases = 0;
    // Sent together without a pipeline: one flush on a single server, and each command routed to
    // its own slot on a cluster (a pipeline must stay within one slot there).
    const replies = await Promise.all(
      ids.map((id) => Promise.all([redis.hget(keys.session(id), 'status'), redis.llen(keys.lane(id)), redis.llen(keys.active(id))])),
    );
    for (const [status, laneLength, active] of replies) {
      byStatus.set(status ?? 'idle', (byStatus.get(status ?? 'idle') ?? 0) + 1);
      laneTotal += laneLength;
      laneMax = Math.max(laneMax, laneLength);
      leases += active;
    }
    return { byStatus, lane: laneTotal, laneMax, leases, truncated: total > ids.length };
  }

  /**
   * The engine keeps no per-status counters, so this scans task hashes
   * (bounded, cached). Fine for a dashboard; a counter kept by the
   * transition scripts would make it O(1).
   */
  private async countTasks() {
    const { redis, keys } = this.engine;
    const counts = new Map<string, number>();
    const pattern = `${keys.prefix}:{s:*}:task:*`;
    let scanned = 0;
    let truncated = false;
    // SCAN walks one server: on a cluster, walk every master.
    const servers = redis instanceof Cluster ? redis.nodes('master') : [redis];
    for (const server of servers) {
      let cursor = '0';
      do {
        const [next, found] = await server.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        scanned += found.length;
        // Task hashes end in `:task:<id>` (ids have no ':'); children, conversation and gate keys have a suffix.
        const taskKeys = found.filter((k) => !k.slice(k.lastIndexOf(':task:') + 6).includes(':'));
        for (const status of await Promise.all(taskKeys.map((k) => redis.hget(k, 'status')))) {
          if (typeof status === 'string') counts.set(status, (counts.get(status) ?? 0) + 1);
        }
      } while (cursor !== '0' && scanned < MAX_SCANNED_KEYS);
      if (cursor !== '0') {
        truncated = true;
        break;
      }
    }
    return { counts, truncated };
  }
}
