import { DeadlineExceededError } from './answer-deadline';

/**
 * Recognises the errors by which Redis (or the client in front of it) refuses
 * or fails to run a command, so that callers answer "try again later" instead
 * of "internal error". Everything else is a bug and stays one.
 */

export const RedisFailureKind = {
  /** No connection (down, restarting, refused, reset), or the cluster is not ready. */
  unreachable: 'unreachable',
  /** Sent, but no answer within the command timeout. */
  timeout: 'timeout',
  /** `maxmemory` reached under `noeviction`: writes are refused, reads still work. */
  oom: 'oom',
  /** A replica, or a server that stopped writes after a failed save (MISCONF), or too few replicas. */
  readonly: 'readonly',
  /** Loading its AOF/RDB after a restart. */
  loading: 'loading',
  /** Busy running a long script. */
  busy: 'busy',
} as const;
export type RedisFailureKind = (typeof RedisFailureKind)[keyof typeof RedisFailureKind];

export interface RedisFailure {
  kind: RedisFailureKind;
  /**
   * True when the command may have run although its reply never came (sent,
   * then a timeout or a dropped connection). False when Redis refused it or
   * it was never written: nothing it would have done happened.
   */
  maybeApplied: boolean;
}

/** Redis error replies that refuse a command before it does anything (scripts too: the first write is refused, so none happens). */
const REFUSALS: [RegExp, RedisFailureKind][] = [
  [/^OOM\b|OOM command not allowed/, 'oom'],
  [/^(READONLY|MISCONF|NOREPLICAS)\b/, 'readonly'],
  [/^LOADING\b/, 'loading'],
  [/^BUSY\b/, 'busy'],
  [/^(MASTERDOWN|CLUSTERDOWN|TRYAGAIN)\b/, 'unreachable'],
];

/** Client-side messages (ioredis) for commands that were never written to a socket. */
const NOT_SENT = [/enableOfflineQueue options is false/, /Cluster isn't ready/];

/** Socket errors of a connection that dropped while commands were in flight. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTCONN', 'ECONNABORTED']);

/**
 * A script that reached Redis after its caller's deadline and refused to run
 * (Redis was frozen or slow): as a timeout, but known not to have applied.
 */
export class LateCommandError extends Error {
  constructor(what: string) {
    super(`${what}: Redis ran it after its deadline; nothing was written`);
    this.name = 'LateCommandError';
  }
}

/** What kind of Redis failure `err` is, or null when it is not one. */
export function redisFailure(err: unknown): RedisFailure | null {
  if (!(err instanceof Error)) return null;
  if (err instanceof LateCommandError) return { kind: 'timeout', maybeApplied: false };
  if (err instanceof DeadlineExceededError) return { kind: 'timeout', maybeApplied: true };
  const message = err.message;
  if (err.name === 'ReplyError') {
    for (const [pattern, kind] of REFUSALS) if (pattern.test(message)) return { kind, maybeApplied: false };
    // A MULTI whose queued commands were refused (ioredis keeps the refusals on the EXECABORT error).
    if (message.startsWith('EXECABORT')) {
      const previous = (err as { previousErrors?: unknown[] }).previousErrors ?? [];
      return previous.map(redisFailure).find((f) => f !== null) ?? null;
    }
    return null;
  }
  if (NOT_SENT.some((p) => p.test(message))) return { kind: 'unreachable', maybeApplied: false };
  if (message === 'Command timed out') return { kind: 'timeout', maybeApplied: true };
  // In flight when the connection dropped (flushed by maxRetriesPerRequest), or sent on a closing connection.
  if (err.name === 'MaxRetriesPerRequestError' || message === 'Connection is closed.' || err.name === 'ClusterAllFailedError') {
    return { kind: 'unreachable', maybeApplied: true };
  }
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return { kind: 'unreachable', maybeApplied: true };
  return null;
}
