import { apiErrorFor, type BatonApiError } from './errors';
import { ProblemSchema, type Problem } from './schemas';

/**
 * Builds the BatonApiError for an error response. The body is used when it is
 * a problem document; otherwise (a proxy's HTML page, an empty 502) a problem
 * is made from the status line so callers always get the same shape.
 */
export function problemFromBody(status: number, statusText: string, contentType: string, body: string, retryAfter: string | null): BatonApiError {
  let problem: Problem | null = null;
  if (/json/i.test(contentType)) {
    try {
      const parsed = ProblemSchema.safeParse(JSON.parse(body));
      if (parsed.success) problem = { ...parsed.data, status };
    } catch {
      // Not JSON after all: fall through.
    }
  }
  problem ??= {
    type: 'about:blank',
    title: statusText || `HTTP ${status}`,
    status,
    detail: body.trim().slice(0, 500) || undefined,
  };
  return apiErrorFor(problem, parseRetryAfter(retryAfter));
}

/** `Retry-After` is either delay-seconds or an HTTP-date (RFC 9110 10.2.3). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (!value) return null;
  if (/^\d+$/.test(value.trim())) return Number(value.trim());
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}
