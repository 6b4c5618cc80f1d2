import { setTimeout as delay } from 'node:timers/promises';
import http from 'node:http';
import https from 'node:https';
import { z } from 'zod';
import { BatonApiError, BatonConnectionError, BatonProtocolError } from './errors';
import { problemFromBody } from './problem';
import { SseParser, type SseMessage } from './sse-parser';

/**
 * The live event stream of a session (`GET /v1/sessions/{id}/events`) as an
 * async iterator that survives disconnects.
 *
 * Why node:http and not fetch: an SSE connection is one long-lived response,
 * and what matters is noticing when it silently dies. node:http gives the
 * socket's idle timeout directly (the server sends keep-alive comments, so
 * silence past `idleTimeoutMs` means a dead peer, not a quiet session), and
 * destroying the request on `return()` or abort frees the socket at once.
 * Node 20's fetch can stream too, but its body reader has no idle timeout of
 * its own and leaves cancellation of a pending read to a second controller.
 *
 * Resumption (guarantee 12 in docs/design.md): every reconnect sends `Last-Event-ID` with
 * the id of the last event yielded, so the server replays exactly what was
 * missed; a half-received event is dropped and comes again with the replay.
 */
export interface SessionEvent {
  /** The stream id (monotonic per session); pass it back as `lastEventId` to resume. */
  id: string;
  /** The event type (`task.created`, `task.completed`, ...), from the `event:` field; `reset`: see `reset`. */
  type: string;
  /** The parsed `data:` JSON (the raw text if it was not JSON). */
  data: unknown;
  /** `data.taskId` when the event concerns a task, else null. */
  taskId: string | null;
  /**
   * Set on a `reset` event only: the events after the position this stream
   * resumed from were trimmed by the server (streams are capped by count and
   * age), so whatever the caller built from earlier events is stale. Reload
   * the state (`getSession`, `getTree`); the stream goes on with the oldest
   * retained event.
   */
  reset: StreamReset | null;
}

/** The `data` of a `reset` event. */
export const StreamResetSchema = z.looseObject({
  type: z.literal('reset'),
  sessionId: z.string(),
  /** The position that was asked for (Last-Event-ID). */
  lastEventId: z.string(),
  /** The oldest event the server still has (null: none). */
  oldestEventId: z.string().nullable(),
  reason: z.string(),
  detail: z.string(),
});
export type StreamReset = z.infer<typeof StreamResetSchema>;

/** Narrows an event to a `reset`. */
export function isResetEvent(event: SessionEvent): event is SessionEvent & { type: 'reset'; reset: StreamReset } {
  return event.type === 'reset' && event.reset !== null;
}

export interface EventStreamOptions {
  /** Resume after this event id (sent as `Last-Event-ID` on the first connection too). */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Delay before reconnecting after a drop; the server's `retry:` field overrides it. Default 1000 ms. */
  reconnectDelayMs?: number;
  /** Upper bound for the backoff after consecutive failed connects. Default 15000 ms. */
  maxReconnectDelayMs?: number;
  /** A connection that sends nothing (not even a keep-alive comment) for this long is dropped and reopened. Default 60000 ms. */
  idleTimeoutMs?: number;
  /** Called each time a connection is established (after the 200 response headers). */
  onOpen?: (info: { reconnect: boolean; lastEventId: string }) => void;
  /** Called when a connection fails or drops and a reconnect is scheduled. */
  onDisconnect?: (error: Error | null) => void;
}

export interface EventStreamRequest {
  url: string;
  headers: Record<string, string>;
}

/** Statuses worth reconnecting after; any other error status ends the iterator with a BatonApiError. */
const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

export async function* sessionEvents(request: EventStreamRequest, options: EventStreamOptions = {}): AsyncGenerator<SessionEvent, void, undefined> {
  const { signal } = options;
  const baseDelay = options.reconnectDelayMs ?? 1000;
  const maxDelay = options.maxReconnectDelayMs ?? 15_000;
  const parser = new SseParser();
  parser.lastEventId = options.lastEventId ?? '';
  let failures = 0;
  let opened = false;

  while (!signal?.aborted) {
    let res: http.IncomingMessage;
    let req: http.ClientRequest;
    let idle: () => Error | null;
    try {
      ({ req, res, idle } = await connect(request, parser.lastEventId, options.idleTimeoutMs ?? 60_000, signal));
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof BatonApiError && !RETRYABLE.has(err.status)) throw err;
      failures++;
      options.onDisconnect?.(err as Error);
      const retryAfter = err instanceof BatonApiError && err.retryAfterSeconds !== null ? err.retryAfterSeconds * 1000 : 0;
      await sleep(Math.max(retryAfter, Math.min(maxDelay, baseDelay * 2 ** (failures - 1))), signal);
      continue;
    }
    failures = 0;
    options.onOpen?.({ reconnect: opened, lastEventId: parser.lastEventId });
    opened = true;
    let dropError: Error | null = null;
    try {
      res.setEncoding('utf8');
      for await (const chunk of res as AsyncIterable<string>) {
        for (const message of parser.push(chunk)) yield toEvent(message, request.url);
      }
    } catch (err) {
      if (signal?.aborted) return;
      if (err instanceof BatonProtocolError) throw err; // a server bug, not a dropped connection
      dropError = idle() ?? (err as Error);
    } finally {
      // Runs on normal end, on error, and when the consumer stops iterating.
      req.destroy();
    }
    parser.reset();
    if (signal?.aborted) return;
    options.onDisconnect?.(dropError);
    await sleep(parser.retryMs ?? baseDelay, signal);
  }
}

function toEvent(message: SseMessage, url: string): SessionEvent {
  let data: unknown = message.data;
  try {
    data = JSON.parse(message.data);
  } catch {
    // Not JSON: hand over the text as it came.
  }
  const taskId =
    typeof data === 'object' && data !== null && typeof (data as { taskId?: unknown }).taskId === 'string' ? (data as { taskId: string }).taskId : null;
  const reset = message.event === 'reset' ? StreamResetSchema.safeParse(data) : null;
  if (reset && !reset.success) throw new BatonProtocolError(url, `malformed reset event:\n${z.prettifyError(reset.error)}`);
  return { id: message.id, type: message.event, data, taskId, reset: reset?.data ?? null };
}

function connect(
  request: EventStreamRequest,
  lastEventId: string,
  idleTimeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<{ req: http.ClientRequest; res: http.IncomingMessage; idle: () => Error | null }> {
  return new Promise((resolve, reject) => {
    const url = new URL(request.url);
    const headers: Record<string, string> = { ...request.headers, accept: 'text/event-stream', 'cache-control': 'no-cache' };
    if (lastEventId) headers['last-event-id'] = lastEventId;
    const transport = url.protocol === 'https:' ? https : http;
    // agent: false -> a socket of its own: a stream must not hold a pooled keep-alive socket hostage.
    const req = transport.request(url, { method: 'GET', headers, agent: false, signal });
    let idleError: Error | null = null;
    req.setTimeout(idleTimeoutMs, () => req.destroy((idleError = new Error(`no data for ${idleTimeoutMs} ms`))));
    req.on('error', (err) => reject(signal?.aborted ? err : new BatonConnectionError(request.url, err)));
    req.on('response', (res) => {
      const status = res.statusCode ?? 0;
      if (status === 200) {
        // From here on, errors surface through the response stream.
        req.removeAllListeners('error');
        req.on('error', () => undefined);
        resolve({ req, res, idle: () => idleError });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(new BatonConnectionError(request.url, err)));
      res.on('end', () => {
        req.destroy();
        reject(
          problemFromBody(
            status,
            res.statusMessage ?? '',
            res.headers['content-type'] ?? '',
            Buffer.concat(chunks).toString('utf8'),
            headerValue(res.headers['retry-after']),
          ),
        );
      });
    });
    req.end();
  });
}

function headerValue(value: string | string[] | undefined): string | null {
  if (value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

/** Waits `ms`, or less when the signal aborts (resolving either way: the caller then looks at the signal). */
function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return delay(ms, undefined, { signal }).catch(() => undefined);
}
