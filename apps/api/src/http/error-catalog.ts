import type { BatonErrorCode } from '@baton/core';
import { z } from 'zod';

/**
 * Every error the API answers with, in one place: a stable code, its HTTP
 * status and title. Responses are RFC 9457 problems
 * (`application/problem+json`) whose `type` is derived from the code.
 */
export const ErrorCatalog = {
  INVALID_INPUT: { status: 400, title: 'Invalid input' },
  MALFORMED_JSON: { status: 400, title: 'Malformed JSON body' },
  UNAUTHORIZED: { status: 401, title: 'Authentication required' },
  NOT_FOUND: { status: 404, title: 'Not found' },
  TASK_NOT_FOUND: { status: 404, title: 'Task not found' },
  SESSION_NOT_FOUND: { status: 404, title: 'Session not found' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed' },
  SESSION_BUSY: { status: 409, title: 'Session busy' },
  TASK_ALREADY_FINAL: { status: 409, title: 'Task already final' },
  TASK_NOT_TERMINAL: { status: 409, title: 'Task tree not finished' },
  TASK_NOT_ROOT: { status: 409, title: 'Not a root task' },
  TASK_NOT_AWAITING_INPUT: { status: 409, title: 'Task not awaiting input' },
  INPUT_CONFLICT: { status: 409, title: 'Another response was already delivered' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type' },
  IDEMPOTENCY_CONFLICT: { status: 422, title: 'Idempotency key reused with another payload' },
  INPUT_KIND_MISMATCH: { status: 422, title: 'Response does not answer the pending input' },
  UNKNOWN_MODE: { status: 422, title: 'Unknown mode' },
  RATE_LIMITED: { status: 429, title: 'Too many requests' },
  SESSION_QUEUE_FULL: { status: 429, title: 'Session queue full' },
  INTERNAL: { status: 500, title: 'Internal server error' },
  UNAVAILABLE: { status: 503, title: 'Service unavailable' },
  REDIS_UNAVAILABLE: { status: 503, title: 'Storage unavailable' },
  REDIS_FULL: { status: 503, title: 'Storage full' },
  FILE_NOT_FOUND: { status: 404, title: 'File not found' },
  WORKSPACE_PATH: { status: 422, title: 'Path refused' },
  INVALID_ARCHIVE: { status: 422, title: 'Invalid archive' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ApiErrorCode = keyof typeof ErrorCatalog;

/** Engine error codes the API expects to meet, and what each becomes. Others are 500. */
const fromEngine: Partial<Record<BatonErrorCode, ApiErrorCode>> = {
  TASK_NOT_FOUND: 'TASK_NOT_FOUND',
  IDEMPOTENCY_CONFLICT: 'IDEMPOTENCY_CONFLICT',
  SESSION_BUSY: 'SESSION_BUSY',
  TASK_ALREADY_FINAL: 'TASK_ALREADY_FINAL',
  INVALID_INPUT: 'INVALID_INPUT',
  SESSION_QUEUE_FULL: 'SESSION_QUEUE_FULL',
  TASK_NOT_AWAITING_INPUT: 'TASK_NOT_AWAITING_INPUT',
  INPUT_CONFLICT: 'INPUT_CONFLICT',
  INPUT_KIND_MISMATCH: 'INPUT_KIND_MISMATCH',
  WORKSPACE_PATH: 'WORKSPACE_PATH',
};

export function apiCodeForEngine(code: BatonErrorCode): ApiErrorCode {
  return fromEngine[code] ?? 'INTERNAL';
}

export function problemType(code: ApiErrorCode): string {
  return `urn:baton:problem:${code.toLowerCase().replace(/_/g, '-')}`;
}

/** An error the API raises on purpose; `extensions` become extra problem members. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ApiErrorCode,
    detail: string,
    readonly extensions: Record<string, unknown> = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
    this.status = ErrorCatalog[code].status;
  }
}

export const ProblemSchema = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; extra members may be present.' });
export type Problem = z.infer<typeof ProblemSchema>;

export function problem(code: ApiErrorCode, detail: string, extensions: Record<string, unknown> = {}): Problem {
  const { status, title } = ErrorCatalog[code];
  return { ...extensions, type: problemType(code), title, status, detail, code };
}
