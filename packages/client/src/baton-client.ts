import { z } from 'zod';
import { BatonConnectionError, BatonProtocolError } from './errors';
import { sessionEvents, type EventStreamOptions, type SessionEvent } from './event-stream';
import { problemFromBody } from './problem';
import {
  MessagesResponseSchema,
  SessionSchema,
  TaskSchema,
  TaskTreeSchema,
  type Message,
  type OnBusy,
  type Session,
  type Task,
  type TaskTree,
} from './schemas';

export interface BatonClientOptions {
  /** Where the API listens, e.g. `http://127.0.0.1:3000` (a path prefix is kept). */
  baseUrl: string;
  /** The tenant's secret, sent as `Authorization: Bearer <apiKey>`; omit for an open API. */
  apiKey?: string;
  /** Per-request timeout for plain calls (not the event stream). Default 30000 ms. */
  timeoutMs?: number;
}

export interface SubmitInput {
  prompt: string;
  /** Defaults to `orchestrator` on the server. */
  mode?: string;
  /** What to do when the session already has a root running or queued. Default `enqueue`. */
  onBusy?: OnBusy;
  /** Opaque JSON kept with the task (at most 16 KiB). */
  metadata?: unknown;
  /**
   * Sent as the `Idempotency-Key` header: the same key with the same body
   * returns the first task (`replayed: true`) instead of creating another.
   */
  idempotencyKey?: string;
}

export interface SubmitResult {
  task: Task;
  /** True when the server answered a replay of an earlier submission (`Idempotent-Replayed: true`). */
  replayed: boolean;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/**
 * Typed client for Baton's HTTP API (`/v1`, issue 4). Every response body is
 * validated against the contract's schemas; error statuses throw
 * `BatonApiError` with the server's RFC 9457 problem; unreachable servers throw
 * `BatonConnectionError`. Plain calls use Node's global fetch (a CLI makes a
 * handful of calls; throughput is not the concern here); the event stream uses
 * node:http (see event-stream.ts for why).
 */
export class BatonClient {
  private readonly baseUrl: string;
  private readonly apiKey: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: BatonClientOptions) {
    const url = new URL(options.baseUrl); // throws on a malformed URL, early
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TypeError(`baseUrl must be http(s), got ${options.baseUrl}`);
    this.baseUrl = url.href.replace(/\/+$/, '');
    this.apiKey = options.apiKey || undefined;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** `POST /v1/sessions/{sessionId}/tasks`: 201 for a new task, 200 for an idempotent replay. */
  async submit(sessionId: string, input: SubmitInput, options: CallOptions = {}): Promise<SubmitResult> {
    const { idempotencyKey, ...rest } = input;
    const body: Record<string, unknown> = { prompt: rest.prompt };
    if (rest.mode !== undefined) body.mode = rest.mode;
    if (rest.onBusy !== undefined) body.onBusy = rest.onBusy;
    if (rest.metadata !== undefined) body.metadata = rest.metadata;
    const headers: Record<string, string> = {};
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const { data, response } = await this.call('POST', `/v1/sessions/${seg(sessionId)}/tasks`, TaskSchema, { body, headers, ...options });
    return { task: data, replayed: response.headers.get('idempotent-replayed') === 'true' };
  }

  /** `GET /v1/tasks/{taskId}`. */
  async getTask(taskId: string, options: CallOptions = {}): Promise<Task> {
    return (await this.call('GET', `/v1/tasks/${seg(taskId)}`, TaskSchema, options)).data;
  }

  /** `GET /v1/tasks/{taskId}/messages`: the task's conversation in OpenAI chat format. */
  async getMessages(taskId: string, options: CallOptions = {}): Promise<Message[]> {
    return (await this.call('GET', `/v1/tasks/${seg(taskId)}/messages`, MessagesResponseSchema, options)).data.messages;
  }

  /** `GET /v1/tasks/{taskId}/tree`: the task with its descendants, nested. */
  async getTree(taskId: string, options: CallOptions = {}): Promise<TaskTree> {
    return (await this.call('GET', `/v1/tasks/${seg(taskId)}/tree`, TaskTreeSchema, options)).data;
  }

  /** `POST /v1/tasks/{taskId}/cancel`: cancels the task and its descendants; idempotent; 409 once completed or failed. */
  async cancel(taskId: string, options: CallOptions = {}): Promise<Task> {
    return (await this.call('POST', `/v1/tasks/${seg(taskId)}/cancel`, TaskSchema, options)).data;
  }

  /** `GET /v1/sessions/{sessionId}`. */
  async getSession(sessionId: string, options: CallOptions = {}): Promise<Session> {
    return (await this.call('GET', `/v1/sessions/${seg(sessionId)}`, SessionSchema, options)).data;
  }

  /** `POST /v1/sessions/{sessionId}/pause`: idempotent. */
  async pause(sessionId: string, options: CallOptions = {}): Promise<Session> {
    return (await this.call('POST', `/v1/sessions/${seg(sessionId)}/pause`, SessionSchema, options)).data;
  }

  /** `POST /v1/sessions/{sessionId}/resume`: idempotent. */
  async resume(sessionId: string, options: CallOptions = {}): Promise<Session> {
    return (await this.call('POST', `/v1/sessions/${seg(sessionId)}/resume`, SessionSchema, options)).data;
  }

  /**
   * `GET /v1/sessions/{sessionId}/events` as an async iterator that reconnects
   * with `Last-Event-ID` after a drop, so a consumer sees every event once, in
   * order. It ends only when `signal` aborts or the consumer stops iterating;
   * a non-retryable error status (401, 404, ...) throws `BatonApiError`.
   */
  events(sessionId: string, options: EventStreamOptions = {}): AsyncGenerator<SessionEvent, void, undefined> {
    return sessionEvents({ url: `${this.baseUrl}/v1/sessions/${seg(sessionId)}/events`, headers: this.authHeaders() }, options);
  }

  private authHeaders(): Record<string, string> {
    return this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {};
  }

  private async call<S extends z.ZodType>(
    method: 'GET' | 'POST',
    path: string,
    schema: S,
    options: CallOptions & { body?: unknown; headers?: Record<string, string> },
  ): Promise<{ data: z.output<S>; response: Response }> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: 'application/json', ...this.authHeaders(), ...options.headers };
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    init.signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

    let response: Response;
    let text: string;
    try {
      response = await fetch(url, init);
      text = await response.text();
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) throw new BatonConnectionError(url, new Error(`no answer within ${this.timeoutMs} ms`));
      throw new BatonConnectionError(url, err);
    }
    if (!response.ok) {
      throw problemFromBody(response.status, response.statusText, response.headers.get('content-type') ?? '', text, response.headers.get('retry-after'));
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new BatonProtocolError(url, `${response.status} body is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new BatonProtocolError(url, z.prettifyError(parsed.error));
    return { data: parsed.data, response };
  }
}

/** One path segment: ids are plain already, but never let a caller's string change the route. */
function seg(id: string): string {
  return encodeURIComponent(id);
}
