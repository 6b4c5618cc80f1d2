import { EventEmitter } from 'node:events';
import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import type { RedisClient } from './connection';

/** Redis memory as `INFO memory` reports it; on a cluster, the fullest master. */
export interface RedisMemoryReading {
  usedBytes: number;
  /** 0: no `maxmemory` (no limit). */
  maxBytes: number;
  /** usedBytes / maxBytes; 0 without a limit. */
  ratio: number;
  /** When it was read (ms since the epoch). */
  at: number;
}

export interface RedisMemoryMonitorOptions {
  /** The mark, as a fraction of maxmemory, at and above which memory counts as high. */
  high: number;
  /** How often INFO is read. */
  refreshMs?: number;
  logger?: Logger;
}

export interface RedisMemoryMonitorEvents {
  /** Memory crossed the mark (true: at or above it). */
  change: [high: boolean, reading: RedisMemoryReading];
}

/** Reads `used_memory` and `maxmemory` from an `INFO memory` reply. */
export function parseMemoryInfo(info: string, at = Date.now()): RedisMemoryReading {
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  const usedBytes = field('used_memory');
  const maxBytes = field('maxmemory');
  return { usedBytes, maxBytes, ratio: maxBytes > 0 ? usedBytes / maxBytes : 0, at };
}

/**
 * Watches Redis memory against a mark. Under `noeviction` (which BullMQ
 * needs) a full Redis refuses every write, so running trees could no longer
 * finish: past the mark, readiness fails, the API refuses new submissions and
 * workers hold new roots, leaving the room to the work already started.
 * One `INFO memory` per `refreshMs`, whatever the traffic: callers read the
 * cached reading.
 */
export class RedisMemoryMonitor extends EventEmitter<RedisMemoryMonitorEvents> {
  private last: RedisMemoryReading | null = null;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private wasHigh = false;
  readonly high: number;
  readonly refreshMs: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly options: RedisMemoryMonitorOptions,
  ) {
    super();
    this.high = options.high;
    this.refreshMs = options.refreshMs ?? 1000;
  }

  /** The latest reading (null before the first one succeeded). */
  get reading(): RedisMemoryReading | null {
    return this.last;
  }

  /** True when the latest reading is at or above the mark (false while unknown). */
  get isHigh(): boolean {
    return this.last !== null && this.last.maxBytes > 0 && this.last.ratio >= this.high;
  }

  /** Reads INFO now (every master of a cluster) and updates the cached reading. */
  async refresh(): Promise<RedisMemoryReading> {
    const servers = this.redis instanceof Cluster ? this.redis.nodes('master') : [this.redis];
    const readings = await Promise.all(servers.map(async (server) => parseMemoryInfo(await server.info('memory'))));
    const fullest = readings.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    this.last = fullest;
    if (this.isHigh !== this.wasHigh) {
      this.wasHigh = this.isHigh;
      this.options.logger?.[this.wasHigh ? 'warn' : 'info'](
        { usedBytes: fullest.usedBytes, maxBytes: fullest.maxBytes, ratio: Number(fullest.ratio.toFixed(3)), high: this.high },
        this.wasHigh ? 'redis memory at or above REDIS_MEMORY_HIGH' : 'redis memory back below REDIS_MEMORY_HIGH',
      );
      this.emit('change', this.wasHigh, fullest);
    }
    return fullest;
  }

  /** Refreshes every `refreshMs` until `stop()` (a failed read keeps the previous reading). */
  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    const tick = () => {
      void this.refresh()
        .catch(() => undefined)
        .finally(() => {
          if (!this.stopped) {
            this.timer = setTimeout(tick, this.refreshMs);
            this.timer.unref();
          }
        });
    };
    tick();
    return this;
  }

  /**
   * Stops refreshing. A read in progress is not awaited: on a connection that
   * waits through an outage it may never end, and closing the connection
   * rejects it (its result is then ignored).
   */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
