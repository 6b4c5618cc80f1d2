import { z } from 'zod';
import { BatonConnectionError, BatonProtocolError } from './errors';
import { sessionEvents, type EventStreamOptions, type SessionEvent } from './event-stream';
import { FileListingSchema, FilesUploadedSchema, type FileContent, type FileEntryInput, type FileListing, type FilesUploaded } from './file-schemas';
import { problemFromBody } from './problem';
import {
  MessagesResponseSchema,
  SessionDeletionSchema,
  SessionSchema,
  TenantUsageSchema,
  type TenantUsage,
  type Budget,
  type OnBudget,
  TaskSchema,
  TaskTreeSchema,
  TreeExportSchema,
  type Message,
  type OnBusy,
  type Session,
  type SessionDeletion,
  type Task,
  type TaskTree,
  type TreeExport,
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
  /** Limits of the whole tree: a turn that would start over one does not start. */
  budget?: Budget;
  /** Over a budget: `fail` (BUDGET_EXCEEDED, default) or `ask` (park for approval of continue_over_budget). */
  onBudget?: OnBudget;
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

export interface InputOptions extends CallOptions {
  /** Sent as `Idempotency-Key`: a retry with the same key and body answers as the first (a different body: 409). */
  idempotencyKey?: string;
}

export interface ApprovalOptions extends InputOptions {
  /** Told to the model with the approval or the denial. */
  feedback?: string;
}

/**
 * Typed client for Baton's HTTP API (`/v1`). Every response body is
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
    if (rest.budget !== undefined) body.budget = rest.budget;
    if (rest.onBudget !== undefined) body.onBudget = rest.onBudget;
    const headers: Record<string, string> = {};
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const { data, response } = await this.call('POST', `/v1/sessions/${seg(sessionId)}/tasks`, TaskSchema, { body, headers, ...options });
    return { task: data, replayed: response.headers.get('idempotent-replayed') === 'true' };
  }

  /** `GET /v1/usage?from=&to=`: the caller's tenant usage and cost by UTC day (YYYY-MM-DD, inclusive). */
  async getUsage(from: string, to: string, options: CallOptions = {}): Promise<TenantUsage> {
    const query = new URLSearchParams({ from, to }).toString();
    return (await this.call('GET', `/v1/usage?${query}`, TenantUsageSchema, options)).data;
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
   * `DELETE /v1/sessions/{sessionId}`: cancels whatever runs in the session, then deletes all its data.
   * `deleted` (204) when everything is gone; `stopping` (202) while a worker still holds one of its
   * tasks: the deletion completes by itself, call again to follow it. Once deleted: 404 (`BatonApiError`).
   */
  async deleteSession(sessionId: string, options: CallOptions = {}): Promise<SessionDeletion> {
    const { data, response } = await this.call('DELETE', `/v1/sessions/${seg(sessionId)}`, SessionDeletionSchema, { ...options, allowEmpty: true });
    if (response.status === 204) return { sessionId, state: 'deleted' };
    if (!data) throw new BatonProtocolError(`${this.baseUrl}/v1/sessions/${seg(sessionId)}`, `${response.status} without a body`);
    return data;
  }

  /**
   * `DELETE /v1/tasks/{taskId}`: deletes a finished root task and its whole tree (204).
   * 409 while the tree runs (`task-not-terminal`) or for a subtask (`task-not-root`); 404 once deleted.
   */
  async deleteTask(taskId: string, options: CallOptions = {}): Promise<void> {
    const { response } = await this.call('DELETE', `/v1/tasks/${seg(taskId)}`, z.never(), { ...options, allowEmpty: true });
    if (response.status !== 204) throw new BatonProtocolError(`${this.baseUrl}/v1/tasks/${seg(taskId)}`, `expected 204, got ${response.status}`);
  }

  /** `GET /v1/tasks/{taskId}/export`: the tree, every conversation and the events, as one document (for archiving). */
  async exportTask(taskId: string, options: CallOptions = {}): Promise<TreeExport> {
    return (await this.call('GET', `/v1/tasks/${seg(taskId)}/export`, TreeExportSchema, options)).data;
  }

  /**
   * `POST /v1/sessions/{sessionId}/files`: seeds the session's workspace. A
   * Buffer/Uint8Array is sent as a tar.gz (`application/gzip`) and extracted;
   * an array of entries is sent as JSON. The server checks every path before
   * writing anything (422 `workspace-path` names a refused one) and bounds the
   * upload (413). Works before the session's first task.
   */
  async uploadFiles(sessionId: string, files: readonly FileEntryInput[] | Uint8Array, options: CallOptions = {}): Promise<FilesUploaded> {
    const path = `/v1/sessions/${seg(sessionId)}/files`;
    const body = files instanceof Uint8Array ? { raw: files, contentType: 'application/gzip' } : { body: { files } };
    return (await this.call('POST', path, FilesUploadedSchema, { ...options, ...body })).data;
  }

  /** `GET /v1/sessions/{sessionId}/files`: the workspace, recursively (`truncated` past the server's cap). */
  async listFiles(sessionId: string, options: CallOptions = {}): Promise<FileListing> {
    return (await this.call('GET', `/v1/sessions/${seg(sessionId)}/files`, FileListingSchema, options)).data;
  }

  /**
   * `GET /v1/sessions/{sessionId}/files/{path}`: a file's bytes (with the
   * content type the server guessed), or a folder's listing. A missing file is
   * `BatonApiError` 404.
   */
  async readFile(sessionId: string, path: string, options: CallOptions = {}): Promise<FileContent> {
    const encoded = path
      .split('/')
      .filter((p) => p !== '')
      .map(encodeURIComponent)
      .join('/');
    const url = `/v1/sessions/${seg(sessionId)}/files/${encoded}`;
    const { response, body } = await this.send('GET', url, { ...options, accept: '*/*' });
    if (response.headers.get('baton-file-type') === 'directory') {
      return { type: 'directory', listing: this.parse(url, response, body, FileListingSchema) };
    }
    return { type: 'file', data: body, contentType: response.headers.get('content-type') ?? 'application/octet-stream' };
  }

  /**
   * `POST /v1/tasks/{taskId}/input` `{"answer"}`: answers the question a task
   * `awaiting_input` asked; the task resumes. 409 when it is not waiting for an
   * answer (or another answer was delivered); 404 across tenants.
   */
  async answer(taskId: string, text: string, options: InputOptions = {}): Promise<Task> {
    return this.input(taskId, { answer: text }, options);
  }

  /** `POST /v1/tasks/{taskId}/input` `{"approved": true, "feedback"?}`: runs the tool call the task waits to have approved. */
  async approve(taskId: string, options: ApprovalOptions = {}): Promise<Task> {
    return this.input(taskId, { approved: true, ...(options.feedback === undefined ? {} : { feedback: options.feedback }) }, options);
  }

  /** `POST /v1/tasks/{taskId}/input` `{"approved": false, "feedback"?}`: the model is told the call was denied, with the feedback. */
  async deny(taskId: string, options: ApprovalOptions = {}): Promise<Task> {
    return this.input(taskId, { approved: false, ...(options.feedback === undefined ? {} : { feedback: options.feedback }) }, options);
  }

  private async input(taskId: string, body: Record<string, unknown>, options: InputOptions): Promise<Task> {
    const headers: Record<string, string> = {};
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    const call = { body, headers, ...(options.signal ? { signal: options.signal } : {}) };
    return (await this.call('POST', `/v1/tasks/${seg(taskId)}/input`, TaskSchema, call)).data;
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
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    options: SendOptions,
  ): Promise<{ data: z.output<S>; response: Response }>;
  private async call<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    options: SendOptions & { allowEmpty: true },
  ): Promise<{ data: z.output<S> | undefined; response: Response }>;
  private async call<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'DELETE',
    path: string,
    schema: S,
    options: SendOptions & { allowEmpty?: boolean },
  ): Promise<{ data: z.output<S> | undefined; response: Response }> {
    const { response, body } = await this.send(method, path, options);
    // 204 No Content (the deletes) has no body to validate.
    if (options.allowEmpty && response.status === 204) return { data: undefined, response };
    return { data: this.parse(`${this.baseUrl}${path}`, response, body, schema), response };
  }

  /** One request; error statuses throw the server's problem. The body is read whole (bytes: files are not always text). */
  private async send(method: 'GET' | 'POST' | 'DELETE', path: string, options: SendOptions): Promise<{ response: Response; body: Buffer }> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json', ...this.authHeaders(), ...options.headers };
    const init: RequestInit = { method, headers };
    if (options.raw !== undefined) {
      headers['content-type'] = options.contentType ?? 'application/octet-stream';
      init.body = options.raw;
    } else if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      init.body = JSON.stringify(options.body);
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    init.signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;

    let response: Response;
    let body: Buffer;
    try {
      response = await fetch(url, init);
      body = Buffer.from(await response.arrayBuffer());
    } catch (err) {
      if (options.signal?.aborted) throw options.signal.reason;
      if (timeout.aborted) throw new BatonConnectionError(url, new Error(`no answer within ${this.timeoutMs} ms`));
      throw new BatonConnectionError(url, err);
    }
    if (!response.ok) {
      throw problemFromBody(
        response.status,
        response.statusText,
        response.headers.get('content-type') ?? '',
        body.toString('utf8'),
        response.headers.get('retry-after'),
      );
    }
    return { response, body };
  }

  private parse<S extends z.ZodType>(url: string, response: Response, body: Buffer, schema: S): z.output<S> {
    let json: unknown;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new BatonProtocolError(url, `${response.status} body is not JSON`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new BatonProtocolError(url, z.prettifyError(parsed.error));
    return parsed.data;
  }
}

interface SendOptions extends CallOptions {
  body?: unknown;
  /** A raw body (a tar.gz), sent with `contentType`. */
  raw?: Uint8Array;
  contentType?: string;
  headers?: Record<string, string>;
  accept?: string;
}

/** One path segment: ids are plain already, but never let a caller's string change the route. */
function seg(id: string): string {
  return encodeURIComponent(id);
}
