import type { RedisClient } from '@baton/core';
import type { Cluster, Redis } from 'ioredis';
import type { Logger } from 'pino';

export type RawEntry = [id: string, fields: string[]];
/** XREAD's reply: per stream key, its new entries. */
export type ReadReply = [key: string, entries: RawEntry[]][];

/**
 * How a shard of the event hub fetches new entries of many session streams
 * at once over one bounded set of Redis connections.
 */
export interface StreamReader {
  /** Entries after `ids[i]` of `keys[i]`; waits a while when there are none (null: nothing came). */
  read(keys: string[], ids: string[], count: number): Promise<ReadReply | null>;
  /**
   * Ends a waiting `read` early (it returns null). False when no read was
   * waiting on the server yet (the command may still be on its way): the
   * caller tries again.
   */
  interrupt(): Promise<boolean>;
  /** Redis connections this reader holds open now. */
  readonly connections: number;
  close(): void;
}

/** Client name of every SSE reader connection (`CLIENT LIST` shows them). */
export const SSE_CONNECTION_NAME = 'baton-api-sse';

/**
 * One connection blocked in `XREAD BLOCK ... STREAMS k1 k2 ... id1 id2 ...`
 * for every stream of its shard (one server, so any keys may share one
 * command). A new stream joins by ending the wait early: `CLIENT UNBLOCK` sent
 * on the engine's command connection, so joining costs one round trip rather
 * than a whole BLOCK period. Where CLIENT UNBLOCK is refused (a managed Redis
 * that disables CLIENT), the reader falls back to short blocks, which bound
 * the joining delay instead.
 */
export class BlockingStreamReader implements StreamReader {
  private connection: Redis | null = null;
  private clientId: number | null = null;
  private unblockRefused = false;
  private unblockChecked = false;

  constructor(
    private readonly base: Redis,
    private readonly commands: RedisClient,
    private readonly blockMs: number,
    private readonly logger: Logger,
    private readonly shortBlockMs = 100,
  ) {}

  get connections(): number {
    return this.connection && this.connection.status !== 'end' ? 1 : 0;
  }

  private open(): Redis {
    if (this.connection) return this.connection;
    // Opened on first use, with options of its own: no command timeout (it would cut the BLOCK); a
    // read pending when the connection drops fails at once (maxRetriesPerRequest 0) rather than being
    // resent after the reconnect, where it would block under a client id we do not know (ioredis
    // without a retry limit and without resending leaves such a command pending forever). The
    // reading loop retries with backoff.
    const connection = this.base.duplicate({
      connectionName: SSE_CONNECTION_NAME,
      commandTimeout: undefined,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: true,
      autoResendUnfulfilledCommands: false,
      lazyConnect: false,
    });
    connection.on('error', () => undefined); // logged by the reading loop, which retries
    connection.on('close', () => {
      this.clientId = null;
    });
    this.connection = connection;
    return connection;
  }

  async read(keys: string[], ids: string[], count: number): Promise<ReadReply | null> {
    const connection = this.open();
    if (this.clientId === null) this.clientId = Number(await connection.client('ID'));
    // Asked once, before the first long block: an unblock refused later could not shorten it.
    if (!this.unblockChecked) {
      await this.commands.client('UNBLOCK', this.clientId).catch((err: unknown) => {
        if (!this.refused(err)) throw err;
      });
      this.unblockChecked = true;
    }
    const block = this.unblockRefused ? Math.min(this.shortBlockMs, this.blockMs) : this.blockMs;
    return (await connection.xread('COUNT', count, 'BLOCK', block, 'STREAMS', ...keys, ...ids)) as ReadReply | null;
  }

  async interrupt(): Promise<boolean> {
    if (this.unblockRefused) return true; // the short block ends soon on its own
    if (this.clientId === null) return false;
    try {
      return Number(await this.commands.client('UNBLOCK', this.clientId)) === 1;
    } catch (err) {
      // Refused for good: the short blocks end soon on their own. Anything else (Redis away): try again.
      return this.refused(err);
    }
  }

  /** True when `err` says the server will never run CLIENT UNBLOCK for us (ACL, renamed or disabled command). */
  private refused(err: unknown): boolean {
    if (!/^(NOPERM|ERR unknown (sub)?command)/i.test(err instanceof Error ? err.message : '')) return false;
    if (!this.unblockRefused) this.logger.warn({ err }, `CLIENT UNBLOCK refused: SSE streams join within ${this.shortBlockMs} ms blocks instead`);
    this.unblockRefused = true;
    return true;
  }

  close(): void {
    this.connection?.disconnect();
    this.connection = null;
  }
}

/**
 * Redis Cluster: one XREAD may only name keys of one hash slot, and every
 * session has its own slot, so one blocking XREAD cannot cover many
 * sessions. This reader polls instead: one non-blocking XREAD per stream,
 * sent together (auto-pipelined per node) on a cluster client of its own
 * (one connection per node), then a pause of `pollMs` when nothing came,
 * which a joining stream cuts short.
 */
export class PollingStreamReader implements StreamReader {
  private cluster: Cluster | null = null;
  private sleeping: (() => void) | null = null;

  constructor(
    private readonly base: Cluster,
    private readonly pollMs: number,
  ) {}

  get connections(): number {
    if (!this.cluster || this.cluster.status === 'end') return 0;
    return this.cluster.nodes('all').filter((node) => node.status === 'ready').length;
  }

  private open(): Cluster {
    if (this.cluster) return this.cluster;
    const options = (this.base as unknown as { options: { redisOptions?: Record<string, unknown> } }).options;
    const cluster = this.base.duplicate(undefined, {
      enableAutoPipelining: true,
      redisOptions: { ...options.redisOptions, connectionName: SSE_CONNECTION_NAME },
    });
    cluster.on('error', () => undefined); // logged by the reading loop, which retries
    this.cluster = cluster;
    return cluster;
  }

  async read(keys: string[], ids: string[], count: number): Promise<ReadReply | null> {
    const cluster = this.open();
    const replies = await Promise.all(keys.map((key, i) => cluster.xread('COUNT', count, 'STREAMS', key, ids[i]!) as Promise<ReadReply | null>));
    const found = replies.flatMap((reply) => reply ?? []);
    if (found.length > 0) return found;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.sleeping = null;
        resolve();
      };
      const timer = setTimeout(done, this.pollMs);
      this.sleeping = done;
    });
    return null;
  }

  async interrupt(): Promise<boolean> {
    if (!this.sleeping) return false;
    this.sleeping();
    return true;
  }

  close(): void {
    this.sleeping?.();
    this.cluster?.disconnect();
    this.cluster = null;
  }
}
