import { redisFailure, type RedisFailure, type RedisFailureKind, type RedisMemoryReading } from '@baton/core';
import { ApiError } from './error-catalog';

/** Seconds a client should wait before trying again, by failure: a full Redis takes longer to get room than a restart takes. */
const RETRY_AFTER_S: Record<RedisFailureKind, number> = { unreachable: 5, timeout: 5, loading: 5, busy: 5, readonly: 10, oom: 30 };

const WHAT: Record<RedisFailureKind, string> = {
  unreachable: 'Redis is unreachable',
  timeout: 'Redis did not answer in time',
  oom: 'Redis is full (maxmemory reached) and refuses writes (and transactions)',
  readonly: 'Redis refuses writes (read-only replica, failed save, or too few replicas)',
  loading: 'Redis is loading its data after a restart',
  busy: 'Redis is busy running a script',
};

/**
 * The 503 problem for a Redis failure. `outcome` tells the client what
 * happened to its request: `not_applied` (nothing was recorded: retrying is
 * safe) or `unknown` (the command was sent but its answer lost: it may have
 * taken effect; retry with the same Idempotency-Key, or look it up).
 */
export function redisUnavailable(failure: RedisFailure, extensions: Record<string, unknown> = {}): ApiError {
  const outcome = failure.maybeApplied ? 'unknown' : 'not_applied';
  const detail = failure.maybeApplied
    ? `${WHAT[failure.kind]}; the request may or may not have taken effect`
    : `${WHAT[failure.kind]}; nothing was recorded, retry later`;
  return new ApiError(
    failure.kind === 'oom' ? 'REDIS_FULL' : 'REDIS_UNAVAILABLE',
    detail,
    { reason: failure.kind, outcome, ...extensions },
    {
      'retry-after': String(RETRY_AFTER_S[failure.kind]),
    },
  );
}

/** `err` as a 503 problem when it is a Redis failure; otherwise null. */
export function asRedisUnavailable(err: unknown, extensions: Record<string, unknown> = {}): ApiError | null {
  const failure = redisFailure(err);
  return failure ? redisUnavailable(failure, extensions) : null;
}

/** The 503 for new work while Redis memory is at or above REDIS_MEMORY_HIGH (the room left goes to running trees). */
export function memoryHigh(reading: RedisMemoryReading, high: number): ApiError {
  const pct = (n: number) => `${Math.round(n * 1000) / 10}%`;
  return new ApiError(
    'REDIS_FULL',
    `Redis memory is at ${pct(reading.ratio)} of maxmemory (REDIS_MEMORY_HIGH is ${pct(high)}); new submissions wait until running work frees room`,
    { reason: 'memory_high', outcome: 'not_applied', memoryRatio: Number(reading.ratio.toFixed(4)) },
    { 'retry-after': String(RETRY_AFTER_S.oom) },
  );
}
