import { isBatonError, redisFailure } from '@baton/core';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { drainRequest } from '../http/drain-request';
import { ApiError, apiCodeForEngine, ErrorCatalog, problem, type ApiErrorCode } from '../http/error-catalog';
import { asRedisUnavailable, redisUnavailable } from '../http/redis-unavailable';

/** Fastify's own 4xx errors, by code, and what they are in our catalog. */
const fastifyCodes: Record<string, ApiErrorCode> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'MALFORMED_JSON',
  FST_ERR_CTP_INVALID_JSON_BODY: 'MALFORMED_JSON',
};

const byStatus: Record<number, ApiErrorCode> = {
  401: 'UNAUTHORIZED',
  404: 'NOT_FOUND',
  405: 'METHOD_NOT_ALLOWED',
  413: 'PAYLOAD_TOO_LARGE',
  415: 'UNSUPPORTED_MEDIA_TYPE',
  429: 'RATE_LIMITED',
};

interface Mapped {
  code: ApiErrorCode;
  detail: string;
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
}

function validationIssues(err: FastifyError): { path: string; message: string }[] {
  return (err.validation ?? []).map((v) => {
    const where = err.validationContext ?? 'request';
    const path = v.instancePath ? v.instancePath.replace(/^\//, '').replace(/\//g, '.') : '';
    return { path: path ? `${where}.${path}` : where, message: v.message ?? 'invalid' };
  });
}

/** Maps anything thrown in a request to a catalog entry; unknown errors are 500 and say nothing. */
export function mapError(err: unknown): Mapped {
  if (err instanceof ApiError) return { code: err.code, detail: err.message, extensions: err.extensions, headers: err.headers };
  // Redis refusing or not answering is "try again later" (503 + Retry-After), never a 500.
  const unavailable = asRedisUnavailable(err);
  if (unavailable) return mapError(unavailable);
  if (isBatonError(err)) {
    const code = apiCodeForEngine(err.code);
    if (code === 'INTERNAL') return { code, detail: 'internal error' };
    const taskId = typeof err.details.taskId === 'string' && err.details.taskId ? { taskId: err.details.taskId } : {};
    // A refusal by a limit says which limit, so clients can tell it from a rate limit.
    const limit = typeof err.details.limit === 'number' ? { limit: err.details.limit } : {};
    if (code === 'SESSION_QUEUE_FULL') {
      const max = String(err.details.limit);
      return {
        code,
        detail: `the session already has ${max} queued root tasks (MAX_QUEUED_ROOTS_PER_SESSION); submit again once some have run, or use onBusy "interrupt" to replace them`,
        extensions: limit,
      };
    }
    return { code, detail: err.message, extensions: { ...taskId, ...limit } };
  }
  const fe = err as Partial<FastifyError>;
  if (fe.validation) {
    const issues = validationIssues(fe as FastifyError);
    return { code: 'INVALID_INPUT', detail: issues.map((i) => `${i.path}: ${i.message}`).join('; '), extensions: { errors: issues } };
  }
  const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    const code = (fe.code && fastifyCodes[fe.code]) || byStatus[status] || 'INVALID_INPUT';
    return { code, detail: fe.message ?? ErrorCatalog[code].title };
  }
  return { code: 'INTERNAL', detail: 'internal error' };
}

export function sendProblem(reply: FastifyReply, code: ApiErrorCode, detail: string, extensions: Record<string, unknown> = {}): FastifyReply {
  return reply
    .code(ErrorCatalog[code].status)
    .type('application/problem+json')
    .send(problem(code, detail, extensions));
}

/**
 * The one error handler: every error becomes an RFC 9457 problem from the
 * catalog. 5xx problems hide the cause (it is logged with the request id).
 */
/**
 * A Redis failure before the handler ran (the rate limiter's counter) left the
 * request itself unapplied, whatever became of the counter.
 */
function beforeHandler(err: unknown, request: FastifyRequest): unknown {
  const failure = request.handlerReached ? null : redisFailure(err);
  return failure?.maybeApplied ? redisUnavailable({ ...failure, maybeApplied: false }) : err;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request passed its onRequest hooks (rate limit) and validation. */
    handlerReached: boolean;
  }
}

export default fp(
  async function errorHandler(app: FastifyInstance) {
    app.decorateRequest('handlerReached', false);
    app.addHook('preHandler', async (request) => {
      request.handlerReached = true;
    });
    app.setErrorHandler(async (err: unknown, request: FastifyRequest, reply: FastifyReply) => {
      const mapped = mapError(beforeHandler(err, request));
      const status = ErrorCatalog[mapped.code].status;
      if (status >= 500 && mapped.code === 'INTERNAL') request.log.error({ err }, 'request failed');
      else if (status >= 500) request.log.warn({ code: mapped.code, detail: mapped.detail, err: String(err) }, 'request refused');
      else request.log.info({ code: mapped.code, detail: mapped.detail }, 'request refused');
      if (mapped.headers) reply.headers(mapped.headers);
      // Refused before its body was read (413, 401, 415, ...): read a bounded amount first, so the answer is not lost to a reset.
      await drainRequest(request.raw);
      return sendProblem(reply, mapped.code, mapped.detail, mapped.extensions);
    });
    app.setNotFoundHandler(async (request, reply) => {
      await drainRequest(request.raw);
      return sendProblem(reply, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`);
    });
  },
  { name: 'baton-error-handler' },
);
