import type { RedisMemoryMonitor } from './redis-memory';
import { Gauge, type Registry } from 'prom-client';

/**
 * Redis memory gauges from the monitor's cached reading (no Redis command per
 * scrape). The API and every worker export the same names: aggregate with
 * max() in queries.
 */
export function registerRedisMemoryMetrics(registry: Registry, monitor: RedisMemoryMonitor): void {
  const registers = [registry];
  const gauge = (name: string, help: string, value: (r: NonNullable<RedisMemoryMonitor['reading']>) => number) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const reading = monitor.reading;
        if (reading) this.set(value(reading));
      },
    });
  gauge('baton_redis_memory_ratio', 'Redis used_memory / maxmemory (0 without maxmemory); the fullest master of a cluster', (r) => r.ratio);
  gauge('baton_redis_used_memory_bytes', 'Redis used_memory (the fullest master of a cluster)', (r) => r.usedBytes);
  gauge('baton_redis_maxmemory_bytes', 'Redis maxmemory (0: no limit)', (r) => r.maxBytes);
  new Gauge({
    name: 'baton_redis_memory_high_ratio',
    help: 'REDIS_MEMORY_HIGH: at and above this ratio the process is not ready, submissions are refused and new roots are held',
    registers,
    collect() {
      this.set(monitor.high);
    },
  });
}
