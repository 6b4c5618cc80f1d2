import type { BatonEvent, Engine } from '@baton/core';
import type { FastifyReply } from 'fastify';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { ApiError } from './error-catalog';
import { readBacklog, type StreamGap } from './event-backlog';
import { EventHub, type EventHubOptions } from './event-hub';
import { StreamCaps } from './stream-caps';
import type { Subscriber } from './stream-shard';

/** One SSE frame per engine event: the stream id is the SSE id, the type the SSE event name. */
export function formatEvent(event: BatonEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * The `reset` frame: events after the reader's Last-Event-ID were trimmed. Its
 * id is where the stream continues (just before the oldest retained event),
 * so a client that reconnects after it resumes there instead of being told
 * again.
 */
export function formatReset(sessionId: string, gap: StreamGap): string {
  const data = {
    type: 'reset',
    sessionId,
    reason: 'events-trimmed',
    lastEventId: gap.lastEventId,
    oldestEventId: gap.oldestEventId,
    detail:
      'Events after lastEventId are no longer retained. Reload the state (GET /v1/sessions/{sessionId}, then ' +
      'GET /v1/tasks/{taskId}/tree for its tasks); the stream continues with the oldest retained event.',
    reload: { session: `/v1/sessions/${encodeURIComponent(sessionId)}`, tree: '/v1/tasks/{taskId}/tree' },
  };
  return `id: ${gap.resumeAfter}\nevent: reset\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Events read per backlog page (catching up from Last-Event-ID). */
const BACKLOG_PAGE = 1000;
/** Seconds a refused client is asked to wait (`Retry-After`). */
export const STREAM_RETRY_AFTER_S = 5;

/**
 * A live event stream of one session to one client. It catches up from its
 * position with paged reads on the engine's command connection (detecting
 * trimmed positions), then joins the hub for live events. A client that does
 * not keep up (its socket buffer is full) or a hub that fell a page behind
 * leaves the hub and catches up again the same way, so a slow client never
 * holds up the others and never misses events silently.
 */
class SseConnection implements Subscriber {
  private closed = false;
  private live = false;
  private readonly keepAlive: NodeJS.Timeout;
  readonly ended: Promise<void>;
  private end!: () => void;

  constructor(
    private readonly engine: Engine,
    private readonly hub: EventHub,
    private readonly res: ServerResponse,
    readonly sessionId: string,
    public after: string,
    keepAliveMs: number,
    private readonly logger: Logger,
  ) {
    this.ended = new Promise<void>((resolve) => (this.end = resolve));
    this.keepAlive = setInterval(() => this.write(': keep-alive\n\n'), keepAliveMs);
    this.keepAlive.unref();
    res.on('close', () => this.close());
  }

  start(): void {
    // A client gone before the stream was set up has already fired 'close'.
    if (this.res.destroyed || this.res.socket?.destroyed !== false) return this.close();
    this.write(': connected\n\n');
    void this.catchUp();
  }

  deliver(events: BatonEvent[], more: boolean): void {
    if (this.closed) return;
    if (events.length > 0) {
      this.after = events[events.length - 1]!.id;
      this.write(events.map(formatEvent).join(''));
    }
    if (more || this.res.writableNeedDrain) {
      this.hub.leave(this);
      this.live = false;
      void this.catchUp();
    }
  }

  private write(chunk: string): void {
    if (this.closed) return;
    this.res.write(chunk);
    // Any write proves the connection alive: the keep-alive waits a full period from here.
    this.keepAlive.refresh();
  }

  private async catchUp(): Promise<void> {
    try {
      for (;;) {
        if (this.res.writableNeedDrain) await Promise.race([once(this.res, 'drain'), this.ended]);
        if (this.closed) return;
        const page = await readBacklog(this.engine, this.sessionId, this.after, BACKLOG_PAGE);
        if (this.closed) return;
        if (page.gap) {
          this.write(formatReset(this.sessionId, page.gap));
          this.after = page.gap.resumeAfter;
        }
        if (page.events.length > 0) {
          this.after = page.events[page.events.length - 1]!.id;
          this.write(page.events.map(formatEvent).join(''));
        }
        if (!page.more && !this.res.writableNeedDrain) break;
      }
      this.live = true;
      this.hub.join(this);
    } catch (err) {
      // The client reconnects with Last-Event-ID and nothing is lost; Redis trouble must not leave it hanging.
      if (!this.closed) this.logger.warn({ err, sessionId: this.sessionId }, 'event stream failed');
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.keepAlive);
    if (this.live) this.hub.leave(this);
    this.live = false;
    if (!this.res.writableEnded) this.res.end();
    this.end();
  }
}

export interface EventStreamerOptions extends EventHubOptions {
  keepAliveMs: number;
  /** Open streams per API process (SSE_MAX_STREAMS). */
  maxStreams: number;
  /** Open streams per tenant in one API process (SSE_MAX_STREAMS_PER_TENANT). */
  maxStreamsPerTenant: number;
}

/**
 * Serves Server-Sent Events for sessions: events after `after` ('0': the whole
 * retained stream), a `reset` when that position was trimmed, then live
 * events from the shared hub, with a keep-alive comment whenever
 * `keepAliveMs` pass without a write. Caps the number of open streams and
 * tracks them so that closing the app ends them.
 */
export class EventStreamer {
  private readonly streams = new Set<SseConnection>();
  private readonly hub: EventHub;
  private readonly caps: StreamCaps;

  constructor(
    private readonly engine: Engine,
    private readonly options: EventStreamerOptions,
    private readonly logger: Logger,
  ) {
    this.hub = new EventHub(engine, options, logger);
    this.caps = new StreamCaps(options.maxStreams, options.maxStreamsPerTenant);
  }

  get openStreams(): number {
    return this.streams.size;
  }

  /** Streams receiving live events from the hub now (the others are catching up). */
  get liveStreams(): number {
    return this.hub.subscriptions;
  }

  /** Redis connections held for event streams (by the hub; catching up uses the engine's). */
  get redisConnections(): number {
    return this.hub.connections;
  }

  /** Counts a stream for `tenant`; throws a 429 problem when a cap is reached. */
  admit(tenant: string): () => void {
    const lease = this.caps.acquire(tenant);
    if (typeof lease === 'function') return lease;
    const max = lease === 'process' ? this.caps.maxStreams : this.caps.maxPerTenant;
    const what = lease === 'process' ? 'this API process' : `tenant ${tenant}`;
    throw new ApiError(
      'RATE_LIMITED',
      `too many open event streams for ${what} (at most ${max}); close one or retry later`,
      { scope: lease === 'process' ? 'sse-streams-per-process' : 'sse-streams-per-tenant', limit: max },
      { 'retry-after': String(STREAM_RETRY_AFTER_S) },
    );
  }

  /** Serves the stream until the client leaves or the app closes; `release` is called at the end. */
  async serve(reply: FastifyReply, sessionId: string, after: string, release: () => void): Promise<void> {
    try {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const stream = new SseConnection(this.engine, this.hub, res, sessionId, after, this.options.keepAliveMs, this.logger);
      this.streams.add(stream);
      try {
        stream.start();
        await stream.ended;
      } finally {
        this.streams.delete(stream);
      }
    } finally {
      release();
    }
  }

  /** Ends every stream and closes the hub's connections. */
  async close(): Promise<void> {
    for (const stream of this.streams) stream.close();
    await this.hub.close();
  }
}
