import { TERMINAL_STATUSES, UsageReader, type Engine } from '@baton/core';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** BullMQ states reported per queue. */
const JOB_STATES = ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'completed', 'failed'] as const;

/**
 * The API's Prometheus metrics. A scrape costs a fixed number of Redis
 * commands whatever the number of sessions and tasks: BullMQ's job counts
 * (one script per queue shard), the size of the session index (ZCARD) and the engine's task
 * totals (one HGETALL of a hash the engine updates as tasks are created and
 * end). Nothing is scanned. Request metrics are counted here. Gate outcomes,
 * model requests in flight, turn and model latency, provider errors and
 * reconciler repairs happen in workers, which expose them on their own
 * METRICS_PORT.
 */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly queueJobs: Gauge<'queue' | 'shard' | 'state'>;
  private readonly sessions: Gauge;
  private readonly created: Counter<'kind'>;
  private readonly ended: Counter<'status'>;
  private readonly tokens: Counter<'model' | 'kind'>;
  private readonly costUsd: Counter<'model'>;
  private readonly modelTurns: Counter<'model' | 'priced'>;
  private readonly usage: UsageReader;

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

    this.queueJobs = new Gauge({
      name: 'baton_queue_jobs',
      help: 'BullMQ jobs per queue, queue shard (QUEUE_SHARDS) and state',
      labelNames: ['queue', 'shard', 'state'],
      registers,
    });
    this.sessions = new Gauge({
      name: 'baton_sessions_tracked',
      help: 'Sessions in the engine index: recently active, or with work queued, running or paused',
      registers,
    });
    this.created = new Counter({ name: 'baton_tasks_created_total', help: 'Tasks created, by kind (root, child)', labelNames: ['kind'], registers });
    this.ended = new Counter({
      name: 'baton_tasks_ended_total',
      help: 'Tasks that reached a terminal status, by status (open tasks: created minus ended)',
      labelNames: ['status'],
      registers,
    });
    this.usage = new UsageReader(engine.ctx);
    this.tokens = new Counter({
      name: 'baton_model_tokens_total',
      help: 'Tokens of committed turns, by model and kind (input includes cached)',
      labelNames: ['model', 'kind'],
      registers,
    });
    this.costUsd = new Counter({
      name: 'baton_model_cost_usd_total',
      help: 'USD of committed turns of priced models (PRICES_FILE), by model',
      labelNames: ['model'],
      registers,
    });
    this.modelTurns = new Counter({
      name: 'baton_model_turns_total',
      help: 'Committed turns by model; priced="false": the model has no price (cost unknown)',
      labelNames: ['model', 'priced'],
      registers,
    });
  }

  /** Reads what Redis knows (a fixed number of commands, sent together) and renders every metric. */
  async render(): Promise<string> {
    const { redis, keys, ctx } = this.engine;
    const queues = ctx.queues.queues;
    const [counts, sessions, totals, models] = await Promise.all([
      Promise.all(queues.map((q) => q.getJobCounts(...JOB_STATES))),
      redis.zcard(keys.sessionIndex()),
      this.engine.stats.read(),
      this.usage.byModel(),
    ]);
    queues.forEach((queue, shard) => {
      for (const state of JOB_STATES) this.queueJobs.set({ queue: queue.name, shard: String(shard), state }, counts[shard]![state] ?? 0);
    });
    this.sessions.set(sessions);
    // Totals live in Redis (shared by every process): mirror them, do not add to them.
    this.created.reset();
    this.created.inc({ kind: 'root' }, totals.created.root);
    this.created.inc({ kind: 'child' }, totals.created.child);
    this.ended.reset();
    for (const status of TERMINAL_STATUSES) this.ended.inc({ status }, totals.ended[status] ?? 0);
    this.tokens.reset();
    this.costUsd.reset();
    this.modelTurns.reset();
    for (const { model, usage, costUsd } of models) {
      this.tokens.inc({ model, kind: 'input' }, usage.inputTokens);
      this.tokens.inc({ model, kind: 'output' }, usage.outputTokens);
      this.tokens.inc({ model, kind: 'cached' }, usage.cachedTokens);
      this.costUsd.inc({ model }, costUsd);
      this.modelTurns.inc({ model, priced: 'true' }, usage.turns - usage.unpricedTurns);
      this.modelTurns.inc({ model, priced: 'false' }, usage.unpricedTurns);
    }
    return this.registry.metrics();
  }
}
