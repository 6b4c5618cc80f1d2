import type { Engine } from '@baton/core';
import { Cluster } from 'ioredis';
import type { Logger } from 'pino';
import { StreamShard, type Subscriber } from './stream-shard';
import { BlockingStreamReader, PollingStreamReader } from './stream-readers';

export interface EventHubOptions {
  /** Reading loops, each with one Redis connection (standalone Redis); sessions are spread over them by id. */
  readers: number;
  /** Redis Cluster: pause between polls when nothing came. */
  clusterPollMs: number;
  /** How long one blocking read waits (joins cut it short). */
  blockMs?: number;
  /** Entries read per stream and read. */
  count?: number;
}

/** FNV-1a: spreads sessions over the shards, stable for one id. */
function hash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Every live event stream of one API process shares this hub: a bounded set
 * of Redis connections reads all open session streams and fans the entries
 * out to their subscribers.
 *
 * - Standalone Redis: `readers` connections (SSE_REDIS_READERS), each
 *   blocked in one `XREAD BLOCK` over the streams of its share of sessions.
 * - Redis Cluster: one cluster client of its own (one connection per node)
 *   polling every open stream (see PollingStreamReader): an XREAD may not
 *   span hash slots, and each session has its own.
 *
 * Connections open on the first subscription and stay open until `close()`.
 */
export class EventHub {
  private readonly shards: StreamShard[];

  constructor(engine: Engine, options: EventHubOptions, logger: Logger) {
    const count = options.count ?? 1000;
    if (engine.redis instanceof Cluster) {
      this.shards = [new StreamShard(engine, new PollingStreamReader(engine.redis, options.clusterPollMs), count, logger)];
    } else {
      const redis = engine.redis;
      this.shards = Array.from(
        { length: Math.max(1, options.readers) },
        () => new StreamShard(engine, new BlockingStreamReader(redis, redis, options.blockMs ?? 5000, logger), count, logger),
      );
    }
  }

  private shard(sessionId: string): StreamShard {
    return this.shards[hash(sessionId) % this.shards.length]!;
  }

  join(subscriber: Subscriber): void {
    this.shard(subscriber.sessionId).join(subscriber);
  }

  leave(subscriber: Subscriber): void {
    this.shard(subscriber.sessionId).leave(subscriber);
  }

  /** Live subscriptions (streams catching up on their own are not counted). */
  get subscriptions(): number {
    return this.shards.reduce((n, s) => n + s.subscriptions, 0);
  }

  /** Redis connections held by the hub now. */
  get connections(): number {
    return this.shards.reduce((n, s) => n + s.connections, 0);
  }

  async close(): Promise<void> {
    await Promise.all(this.shards.map((s) => s.close()));
  }
}
