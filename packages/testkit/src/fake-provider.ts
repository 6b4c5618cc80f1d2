/**
 * A fake OpenAI-compatible model provider for tests and benchmarks: a real
 * node:http server on loopback speaking `POST /chat/completions` and
 * Anthropic's `POST /v1/messages`, whole or streamed (`stream: true`: real
 * event streams, frame by frame, with scriptable cuts; see fake-stream.ts).
 * It records what the proof suites assert on:
 * - per session, the highest number of requests ever in flight at once
 *   (session = `X-Baton-Session-Id`, else the root task id taken from the
 *   Idempotency-Key: the part before the first '.' or ':'),
 * - per Idempotency-Key, how many requests arrived,
 * - every request received (headers + body).
 *
 * Replies come from a programmable policy (status, body, headers, delay, or
 * "hang"); by default a scripted orchestrator (see `scriptedReply`).
 * `onRequest` lets a test hold a request in flight on a deferred promise.
 */
import { setMaxListeners } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as wait } from 'node:timers/promises';
import { scriptedReply, streamCutOf, type ChatRequestBody } from './fake-provider-script';
import {
  ANTHROPIC_STREAM_ERROR,
  anthropicStreamFrames,
  isAnthropicMessage,
  isChatCompletion,
  OPENAI_STREAM_ERROR,
  openAiStreamFrames,
  sseFrames,
  type FakeStreamCut,
} from './fake-stream';

import { anthropicError, anthropicRequestProblem, anthropicToChat, chatToAnthropic, type AnthropicRequestBody } from './fake-anthropic';
export { anthropicToChat, chatToAnthropic, anthropicError, type AnthropicRequestBody } from './fake-anthropic';
export { scriptedReply, streamCutOf, chatCompletion, toolCall, type ChatRequestBody, type ChatMessage, type FakeToolCall } from './fake-provider-script';
export { splitText, type FakeStreamCut } from './fake-stream';

/** One request as the fake received it. */
export interface FakeRequest {
  /** 1-based arrival order over the whole server. */
  seq: number;
  headers: IncomingHttpHeaders;
  body: ChatRequestBody;
  /** `Idempotency-Key` header, or null. */
  key: string | null;
  /** `X-Baton-Session-Id`, else the root task id from the key, else 'unknown'. */
  sessionId: string;
  /** 0 for the first request with this key, 1 for the first retry, ... */
  attempt: number;
  /** Date.now() when the body was read. */
  receivedAt: number;
  /** Aborted when the client goes away (socket closed) or the server closes. */
  signal: AbortSignal;
  /**
   * `openai` (`POST .../chat/completions`) or `anthropic` (`POST .../v1/messages`). An Anthropic
   * request's `body` is its chat-completions reading (see fake-anthropic.ts); `rawBody` is as sent.
   */
  protocol: 'openai' | 'anthropic';
  rawBody: unknown;
  /** The request asked for a stream (`stream: true`). */
  stream: boolean;
  /** Event-stream frames written so far (0 for an answer sent whole). */
  chunksSent: number;
  /** The answer's stream was cut as scripted (FakeReply.cut or the prompt's `cutStream=`). */
  cut: boolean;
}

/** What the policy tells the fake to answer. Missing fields: 200, scripted body, no delay. */
export interface FakeReply {
  status?: number;
  /** Object bodies are sent as JSON; strings are sent as they are (for malformed responses). */
  body?: unknown;
  headers?: Record<string, string>;
  /** Wait this long before answering (on top of the server's `latencyMs`). */
  delayMs?: number;
  /** A streamed answer: break it (see FakeStreamCut). Overrides the prompt's `cutStream=`. */
  cut?: FakeStreamCut;
  /** A streamed request: this raw event-stream text is sent (frame by frame) instead of the body's frames (malformed streams). */
  sse?: string;
  /** A streamed answer: pause between frames (on top of the server's `chunkDelayMs`). */
  chunkDelayMs?: number;
}

/** `'hang'`: never answer; the request stays in flight until the client aborts or the server closes. */
export type FakePolicy = (request: FakeRequest) => FakeReply | 'hang' | undefined | Promise<FakeReply | 'hang' | undefined>;

export interface FakeProviderOptions {
  /** When set, requests without `Authorization: Bearer <apiKey>` get 401. */
  apiKey?: string;
  /** Added latency for every answer (benchmarks): before the first byte of a streamed one. */
  latencyMs?: number;
  /** Pause between the frames of a streamed answer (default: none; each frame is still its own write). */
  chunkDelayMs?: number;
  /** Reply policy; `undefined` from the policy falls back to the scripted orchestrator. */
  policy?: FakePolicy;
  /** Awaited before the policy: a test can hold a request in flight deterministically. */
  onRequest?: (request: FakeRequest) => void | Promise<void>;
  /** Model name reported in responses when the request has none. */
  model?: string;
}

export interface FakeProviderStats {
  total: number;
  /** Requests in flight right now. */
  inFlight: number;
  /** Requests in flight right now, per session. */
  inFlightBySession: Record<string, number>;
  /** Highest number of requests ever in flight at once, per session. */
  maxInFlightBySession: Record<string, number>;
  /** Requests received per Idempotency-Key. */
  requestsByKey: Record<string, number>;
  /** Status codes sent, per code. */
  statuses: Record<string, number>;
}

export interface FakeProvider {
  /** Base URL to use as LLM_BASE_URL (no trailing slash). */
  url: string;
  stats: FakeProviderStats;
  requests: FakeRequest[];
  setPolicy(policy: FakePolicy | undefined): void;
  setOnRequest(hook: FakeProviderOptions['onRequest']): void;
  /** Highest per-session in-flight count over all sessions (the invariant 1 probe). */
  maxInFlightPerSession(): number;
  /** Resolves with the first request (past or future) that matches. */
  nextRequest(match?: (request: FakeRequest) => boolean): Promise<FakeRequest>;
  /** Forgets recorded requests and counters (not the policy). */
  reset(): void;
  close(): Promise<void>;
}

/** The session a request belongs to: its header, else the root task id of its key. */
export function sessionOfRequest(headers: IncomingHttpHeaders, key: string | null): string {
  const header = headers['x-baton-session-id'];
  if (typeof header === 'string' && header) return header;
  if (key) return key.split(/[.:]/)[0] || 'unknown';
  return 'unknown';
}

function emptyStats(): FakeProviderStats {
  return { total: 0, inFlight: 0, inFlightBySession: {}, maxInFlightBySession: {}, requestsByKey: {}, statuses: {} };
}

export async function startFakeProvider(options: FakeProviderOptions = {}): Promise<FakeProvider> {
  let policy = options.policy;
  let onRequest = options.onRequest;
  const stats = emptyStats();
  const requests: FakeRequest[] = [];
  const watchers: { match: (r: FakeRequest) => boolean; resolve: (r: FakeRequest) => void }[] = [];
  const sockets = new Set<Socket>();
  const closing = new AbortController();
  // One listener per request in flight: many at once is the point of a load test, not a leak.
  setMaxListeners(0, closing.signal);
  let seq = 0;

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void handle(req.method ?? 'GET', req.url ?? '/', req.headers, Buffer.concat(chunks).toString('utf8'), res);
    });
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    stats.statuses[status] = (stats.statuses[status] ?? 0) + 1;
    if (res.destroyed || res.writableEnded) return;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(text);
  }

  /**
   * Writes a streamed answer frame by frame, each its own write (a chunk of
   * the chunked body), with `chunkDelayMs` between them when set, so that the
   * client gets it in pieces over time; a scripted cut breaks it after
   * `afterChunks` frames. Without a delay the frames go back to back: a load
   * test with many in-process workers is not slowed by event-loop turns of
   * the fake's own (measured: a turn per frame halved the shared-limiter
   * proof's throughput on a busy machine).
   */
  async function sendStream(res: ServerResponse, request: FakeRequest, decided: FakeReply, frames: string[], errorFrame: string): Promise<void> {
    stats.statuses[200] = (stats.statuses[200] ?? 0) + 1;
    if (res.destroyed || res.writableEnded) return;
    const cut: FakeStreamCut | undefined = decided.cut ?? streamCutOf(request.body, request.attempt);
    const pause = (options.chunkDelayMs ?? 0) + (decided.chunkDelayMs ?? 0);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...decided.headers });
    res.flushHeaders();
    for (let i = 0; i <= frames.length; i++) {
      if (request.signal.aborted) return;
      if (cut && i === cut.afterChunks) {
        request.cut = true;
        if (cut.how === 'hang') return; // `done` runs when the client goes away
        if (cut.how === 'error') {
          res.end(errorFrame);
          return;
        }
        res.destroy();
        return;
      }
      if (i === frames.length) break;
      res.write(frames[i]);
      request.chunksSent++;
      if (pause > 0) await sleep(pause, request.signal);
    }
    res.end();
  }

  async function handle(method: string, url: string, headers: IncomingHttpHeaders, raw: string, res: ServerResponse): Promise<void> {
    const path = url.split('?')[0] ?? '';
    const protocol =
      method === 'POST' && path.endsWith('/chat/completions') ? 'openai' : method === 'POST' && path.endsWith('/v1/messages') ? 'anthropic' : null;
    if (!protocol) {
      send(res, 404, { error: { message: `no route ${method} ${url}`, type: 'not_found' } });
      return;
    }
    const fail = (status: number, message: string, openAiType: string, code?: string) =>
      send(res, status, protocol === 'anthropic' ? anthropicError(status, message) : { error: { message, type: openAiType, ...(code ? { code } : {}) } });
    const presented = protocol === 'anthropic' ? headers['x-api-key'] : headers.authorization;
    if (options.apiKey !== undefined && presented !== (protocol === 'anthropic' ? options.apiKey : `Bearer ${options.apiKey}`)) {
      fail(401, protocol === 'anthropic' ? 'invalid x-api-key' : 'Incorrect API key provided', 'invalid_request_error', 'invalid_api_key');
      return;
    }
    if (protocol === 'anthropic' && typeof headers['anthropic-version'] !== 'string') {
      fail(400, 'anthropic-version: header is required', 'invalid_request_error');
      return;
    }
    let rawBody: unknown;
    try {
      rawBody = JSON.parse(raw);
    } catch {
      fail(400, 'request body is not JSON', 'invalid_request_error');
      return;
    }
    if (protocol === 'anthropic') {
      const problem = anthropicRequestProblem(rawBody as AnthropicRequestBody);
      if (problem) {
        fail(400, problem, 'invalid_request_error');
        return;
      }
    }
    const body: ChatRequestBody = protocol === 'anthropic' ? anthropicToChat(rawBody as AnthropicRequestBody) : (rawBody as ChatRequestBody);
    const keyHeader = headers['idempotency-key'];
    const key = typeof keyHeader === 'string' ? keyHeader : null;
    const sessionId = sessionOfRequest(headers, key);
    const attempt = key ? (stats.requestsByKey[key] ?? 0) : 0;
    if (key) stats.requestsByKey[key] = attempt + 1;
    stats.total++;

    const aborted = new AbortController();
    const onGone = () => {
      if (!res.writableFinished) aborted.abort(new Error('client went away'));
    };
    res.on('close', onGone);
    closing.signal.addEventListener('abort', onGone, { once: true });

    stats.inFlight++;
    const now = (stats.inFlightBySession[sessionId] ?? 0) + 1;
    stats.inFlightBySession[sessionId] = now;
    stats.maxInFlightBySession[sessionId] = Math.max(stats.maxInFlightBySession[sessionId] ?? 0, now);
    let counted = true;
    const done = () => {
      if (!counted) return;
      counted = false;
      stats.inFlight--;
      stats.inFlightBySession[sessionId] = (stats.inFlightBySession[sessionId] ?? 1) - 1;
      closing.signal.removeEventListener('abort', onGone);
    };
    // A request stops being in flight when its answer is sent or its client is gone.
    res.on('close', done);
    res.on('finish', done);

    const stream = (rawBody as { stream?: unknown } | null)?.stream === true;
    const request: FakeRequest = {
      seq: ++seq,
      headers,
      body,
      key,
      sessionId,
      attempt,
      receivedAt: Date.now(),
      signal: aborted.signal,
      protocol,
      rawBody,
      stream,
      chunksSent: 0,
      cut: false,
    };
    requests.push(request);
    for (const w of [...watchers]) {
      if (w.match(request)) {
        watchers.splice(watchers.indexOf(w), 1);
        w.resolve(request);
      }
    }

    try {
      await onRequest?.(request);
      const decided = (await policy?.(request)) ?? {};
      if (decided === 'hang') return; // answered never; `done` runs when the client aborts
      const delay = (options.latencyMs ?? 0) + (decided.delayMs ?? 0);
      if (delay > 0) await sleep(delay, aborted.signal);
      if (aborted.signal.aborted) return;
      const status = decided.status ?? 200;
      const streamIt = (streamable: boolean) => stream && status === 200 && (decided.sse !== undefined || streamable);
      if (protocol === 'anthropic') {
        const replyBody = decided.body ?? (status === 200 ? scriptedReply(body, options.model) : anthropicError(status, `fake error ${status}`));
        const message = chatToAnthropic(replyBody, options.model);
        if (streamIt(isAnthropicMessage(message))) {
          await sendStream(res, request, decided, decided.sse !== undefined ? sseFrames(decided.sse) : anthropicStreamFrames(message), ANTHROPIC_STREAM_ERROR);
          return;
        }
        send(res, status, message, decided.headers);
        return;
      }
      const replyBody = decided.body ?? (status === 200 ? scriptedReply(body, options.model) : { error: { message: `fake error ${status}` } });
      if (streamIt(isChatCompletion(replyBody))) {
        const includeUsage = (rawBody as { stream_options?: { include_usage?: unknown } }).stream_options?.include_usage === true;
        await sendStream(
          res,
          request,
          decided,
          decided.sse !== undefined ? sseFrames(decided.sse) : openAiStreamFrames(replyBody, includeUsage),
          OPENAI_STREAM_ERROR,
        );
        return;
      }
      send(res, status, replyBody, decided.headers);
    } catch (err) {
      if (aborted.signal.aborted) return;
      send(res, 500, { error: { message: `fake provider policy threw: ${String(err)}` } });
    }
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    requests,
    setPolicy(next) {
      policy = next;
    },
    setOnRequest(hook) {
      onRequest = hook;
    },
    maxInFlightPerSession() {
      return Math.max(0, ...Object.values(stats.maxInFlightBySession));
    },
    nextRequest(match = () => true) {
      const seen = requests.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => watchers.push({ match, resolve }));
    },
    reset() {
      requests.length = 0;
      const fresh = emptyStats();
      fresh.inFlight = stats.inFlight;
      fresh.inFlightBySession = stats.inFlightBySession;
      Object.assign(stats, fresh);
    },
    async close() {
      closing.abort();
      server.close();
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => setImmediate(resolve));
    },
  };
}

/** Waits `ms`, or less when the signal aborts (resolving either way: the caller then looks at the signal). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return wait(ms, undefined, { signal }).catch(() => undefined);
}
