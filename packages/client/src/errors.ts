import type { Problem } from './schemas';

/**
 * The API answered with an error status. Carries the RFC 9457 problem the
 * server sent (or one built from the status line when the body was not a
 * problem), so callers switch on `status` / `problem.type`, not on text.
 */
export class BatonApiError extends Error {
  override readonly name = 'BatonApiError';
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
