import type { BatonEvent, Engine } from '@baton/core';
import type { FastifyReply } from 'fastify';
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';

/** One SSE frame per engine event: the stream id is the SSE id, the type the SSE event name. */
export function formatEvent(event: BatonEvent): string {
  return `id: ${event.id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/** A live event stream of one session to one client, on its own blocking Redis connection. */
class SessionEventStream {
  private closed = false;
  private readonly connection;

  constructor(
    private readonly engine: Engine,
    private readonly res: ServerResponse,
    private readonly sessionId: string,
    private last: string,
    private readonly keepAliveMs: number,
  ) {
    // XREAD BLOCK holds its connection, so every stream has one, closed with the stream.
    this.connection = engine.redis.duplicate();
    this.connection.on('error', () => undefined);
  }

  async run(): Promise<void> {
    const onClose = () => this.close();
    this.res.on('close', onClose);
    try {
      while (!this.closed) {
        const events = await this.engine.events.waitFor(this.connection, this.sessionId, this.last, this.keepAliveMs);
        if (this.closed) break;
        const chunk = events.length === 0 ? ': keep-alive\n\n' : events.map(formatEvent).join('');
        if (events.length > 0) this.last = events[events.length - 1]!.id;
        if (!this.res.write(chunk)) await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
      }
    } catch (err) {
      // Closing the connection under a pending XREAD rejects it; anything else ends the stream too.
      if (!this.closed) this.engine.logger.warn({ err, sessionId: this.sessionId }, 'event stream failed');
    } finally {
      this.res.off('close', onClose);
      this.close();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.connection.disconnect();
    if (!this.res.writableEnded) this.res.end();
  }
}

/**
 * Serves Server-Sent Events for sessions (issue 4): events after `after`
 * ('0': the whole retained stream), then live ones as they are appended,
 * with a keep-alive comment whenever `keepAliveMs` pass without one. Tracks
 * its streams so that closing the app ends them.
 */
export class EventStreamer {
  private readonly streams = new Set<SessionEventStream>();

  constructor(
    private readonly engine: Engine,
    private readonly keepAliveMs: number,
  ) {}

  get openStreams(): number {
    return this.streams.size;
  }

  async serve(reply: FastifyReply, sessionId: string, after: string): Promise<void> {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...(reply.getHeaders() as Record<string, string>),
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    const stream = new SessionEventStream(this.engine, res, sessionId, after, this.keepAliveMs);
    this.streams.add(stream);
    try {
      await stream.run();
    } finally {
      this.streams.delete(stream);
    }
  }

  closeAll(): void {
    for (const stream of this.streams) stream.close();
  }
}
