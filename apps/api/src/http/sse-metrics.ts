import { Gauge, type Registry } from 'prom-client';

/** Metrics of the event streams beyond their count (`baton_api_sse_streams`, in metrics.ts). */
export function registerSseMetrics(registry: Registry, streams: { redisConnections: number }): void {
  new Gauge({
    name: 'baton_api_sse_redis_connections',
    help: 'Redis connections held for Server-Sent Events streams (SSE_REDIS_READERS; one per node on a cluster)',
    registers: [registry],
    collect() {
      this.set(streams.redisConnections);
    },
  });
}
