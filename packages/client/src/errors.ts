import type { Problem } from './schemas';

/**
 * The API answered with an error status. Carries the RFC 9457 problem the
 * server sent (or one built from the status line when the body was not a
 * problem), so callers switch on `status` / `problem.type`, not on text.
 */
export class BatonApiError extends Error {
  override readonly name: string = 'BatonApiError';
  readonly status: number;
  readonly problem: Problem;
  /** Seconds from a `Retry-After` header (429, 503), when the server sent one. */
  readonly retryAfterSeconds: number | null;

  constructor(problem: Problem, retryAfterSeconds: number | null = null) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.status = problem.status;
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }

  get type(): string {
    return this.problem.type;
  }
  get title(): string {
    return this.problem.title;
  }
  get detail(): string | undefined {
    return this.problem.detail;
  }
  /** The API's stable error code (`problem.code`, e.g. `SESSION_QUEUE_FULL`), when the server sent one. */
  get code(): string | null {
    return typeof this.problem.code === 'string' ? this.problem.code : null;
  }
}

/**
 * `429 SESSION_QUEUE_FULL`: the session already holds MAX_QUEUED_ROOTS_PER_SESSION
 * queued root tasks. Not a rate limit (no Retry-After): it frees up as the
 * session's roots run; `onBusy: 'interrupt'` replaces the queued roots instead.
 */
export class SessionQueueFullError extends BatonApiError {
  override readonly name = 'SessionQueueFullError';
  /** The server's MAX_QUEUED_ROOTS_PER_SESSION, when it said. */
  readonly limit: number | null;

  constructor(problem: Problem, retryAfterSeconds: number | null = null) {
    super(problem, retryAfterSeconds);
    this.limit = typeof problem.limit === 'number' ? problem.limit : null;
  }
}

/** The problem codes that have their own error class. */
const byCode: Record<string, new (problem: Problem, retryAfterSeconds: number | null) => BatonApiError> = {
  SESSION_QUEUE_FULL: SessionQueueFullError,
};

/** The BatonApiError (or its subclass for a known `code`) for a problem. */
export function apiErrorFor(problem: Problem, retryAfterSeconds: number | null): BatonApiError {
  const Class = typeof problem.code === 'string' ? byCode[problem.code] : undefined;
  return new (Class ?? BatonApiError)(problem, retryAfterSeconds);
}

/** The server could not be reached (refused, reset, DNS, timeout). */
export class BatonConnectionError extends Error {
  override readonly name = 'BatonConnectionError';
  constructor(
    readonly url: string,
    cause: unknown,
  ) {
    super(`cannot reach Baton at ${url}: ${describeCause(cause)}`, { cause });
  }
}

/** A 2xx body that does not match the contract: the server and client disagree. */
export class BatonProtocolError extends Error {
  override readonly name = 'BatonProtocolError';
  constructor(
    readonly url: string,
    message: string,
  ) {
    super(`unexpected response from ${url}: ${message}`);
  }
}

export function isBatonApiError(err: unknown): err is BatonApiError {
  return err instanceof BatonApiError;
}

function describeCause(cause: unknown): string {
  if (cause instanceof Error) {
    // fetch wraps the socket error: "fetch failed" { cause: Error ECONNREFUSED }.
    const inner = (cause as Error & { cause?: unknown }).cause;
    if (inner instanceof Error) return inner.message;
    return cause.message;
  }
  return String(cause);
}
