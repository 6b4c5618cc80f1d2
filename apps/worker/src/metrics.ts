import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { registerRedisMemoryMetrics, type ReconcileReport, type RedisMemoryMonitor } from '@baton/core';
import type { ProviderObserver } from './providers/model-provider';

/**
 * The worker's Prometheus metrics (own registry; served on METRICS_PORT).
 * See apps/worker/README.md for the list.
 */
export class WorkerMetrics implements ProviderObserver {
  readonly registry = new Registry();
  private readonly gateOutcomes = new Counter({
    name: 'baton_worker_gate_outcomes_total',
    help: 'Turns by request-gate outcome: called (model requested), replayed (committed response read back), joined (waited for a duplicate in flight), refused_stale (runner fenced out)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly resent = new Counter({
    name: 'baton_worker_model_requests_resent_total',
    help: 'Turns whose request-gate lease was granted more than once: an earlier holder died or stalled mid-request, so the provider may have seen the request twice (at-least-once at a crash boundary)',
    registers: [this.registry],
  });
  private readonly repairs = new Counter({
    name: 'baton_worker_reconciler_repairs_total',
    help: "Repairs made by this worker's reconciler passes: redispatched (dispatch lost before the BullMQ add), released_lease (tree ended without handing over), promoted (parked job left delayed after resume), usage_rollup (a turn's tenant/model roll-up left pending by a crash)",
    labelNames: ['kind'],
    registers: [this.registry],
  });
  private readonly modelLatency = new Histogram({
    name: 'baton_worker_model_request_duration_seconds',
    help: 'Duration of each model request attempt, by HTTP status (or timeout/network/malformed)',
    labelNames: ['status'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly turnLatency = new Histogram({
    name: 'baton_worker_turn_duration_seconds',
    help: 'Duration of a turn through the request gate (all attempts and backoff included), by gate outcome',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300],
    registers: [this.registry],
  });
  private readonly providerErrors = new Counter({
    name: 'baton_worker_provider_errors_total',
    help: 'Failed model request attempts by status (HTTP status, timeout, network, malformed)',
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly inFlight = new Gauge({
    name: 'baton_worker_model_requests_in_flight',
    help: 'Model requests in flight in this process',
    registers: [this.registry],
  });
  private readonly sessionInFlightMax = new Gauge({
    name: 'baton_worker_session_model_requests_in_flight_max',
    help: 'Highest number of model requests ever in flight at once for one session in this process (invariant: 1)',
    registers: [this.registry],
  });
  private readonly tasksFinished = new Counter({
    name: 'baton_worker_tasks_finished_total',
    help: 'Task executions that ended, by outcome (completed, failed, parked, paused, stopped)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  private readonly jobsTaken = new Counter({
    name: 'baton_worker_jobs_taken_total',
    help: 'Task jobs this worker took from the queues, by queue shard (QUEUE_SHARDS): a shard no worker takes from stalls its sessions',
    labelNames: ['shard'],
    registers: [this.registry],
  });
  private readonly rootsHeld = new Counter({
    name: 'baton_worker_roots_held_total',
    help: 'Root jobs put back before starting because Redis memory was at or above REDIS_MEMORY_HIGH',
    registers: [this.registry],
  });
  private readonly bySession = new Map<string, number>();
  private highest = 0;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'baton_worker_' });
  }

  gate(outcome: 'called' | 'replayed' | 'joined' | 'refused_stale', seconds?: number, grants?: number): void {
    this.gateOutcomes.inc({ outcome });
    if (outcome === 'called' && grants !== undefined && grants > 1) this.resent.inc();
    if (seconds !== undefined) this.turnLatency.observe({ outcome }, seconds);
  }

  /** Exports the monitor's Redis memory reading (baton_redis_memory_ratio and friends). */
  watchRedisMemory(monitor: RedisMemoryMonitor): void {
    registerRedisMemoryMetrics(this.registry, monitor);
  }

  rootHeld(): void {
    this.rootsHeld.inc();
  }

  jobTaken(shard: number): void {
    this.jobsTaken.inc({ shard: String(shard) });
  }

  reconciled(report: ReconcileReport): void {
    this.repairs.inc({ kind: 'redispatched' }, report.redispatched);
    this.repairs.inc({ kind: 'released_lease' }, report.releasedLeases);
    this.repairs.inc({ kind: 'promoted' }, report.promoted);
    this.repairs.inc({ kind: 'usage_rollup' }, report.rolledUp);
  }

  attempt(outcome: { status: number | 'timeout' | 'network' | 'malformed'; durationMs: number }): void {
    const status = String(outcome.status);
    this.modelLatency.observe({ status }, outcome.durationMs / 1000);
    if (typeof outcome.status !== 'number' || outcome.status >= 400) this.providerErrors.inc({ status });
  }

  /** Wraps a model call: counts it in flight for its session. */
  async track<T>(sessionId: string, call: () => Promise<T>): Promise<T> {
    const now = (this.bySession.get(sessionId) ?? 0) + 1;
    this.bySession.set(sessionId, now);
    this.inFlight.inc();
    if (now > this.highest) {
      this.highest = now;
      this.sessionInFlightMax.set(now);
    }
    try {
      return await call();
    } finally {
      this.inFlight.dec();
      const left = (this.bySession.get(sessionId) ?? 1) - 1;
      if (left === 0) this.bySession.delete(sessionId);
      else this.bySession.set(sessionId, left);
    }
  }

  taskEnded(outcome: 'completed' | 'failed' | 'parked' | 'paused' | 'stopped'): void {
    this.tasksFinished.inc({ outcome });
  }

  /** Serves `GET /metrics`; resolves with the bound port. */
  async serve(port: number): Promise<{ port: number; close(): Promise<void> }> {
    const server: Server = createServer((req, res) => {
      if (req.method !== 'GET' || req.url?.split('?')[0] !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      this.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': this.registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, resolve);
    });
    return {
      port: (server.address() as AddressInfo).port,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    };
  }
}
