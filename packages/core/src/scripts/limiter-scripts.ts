/**
 * Wrappers of the shared provider limiter scripts: limiter-acquire-1 and
 * limiter-record-1. A scope names one provider account and model
 * (`<provider>:<short hash of the API key>:<model>`, never the key itself);
 * its hash is `Keys.providerLimit(scope)`.
 */
import { UnexpectedReplyError, type ScriptEnv } from './reply';

export type LimiterAcquireReply = { kind: 'go' } | { kind: 'wait'; waitMs: number };

/** Asks to send one request now; `graceMs`: how long the hash outlives its window. */
export async function limiterAcquire(env: ScriptEnv, scope: string, graceMs: number): Promise<LimiterAcquireReply> {
  const reply = await env.run('batonLimiterAcquire', [env.keys.providerLimit(scope)], [graceMs]);
  if (reply === 0) return { kind: 'go' };
  if (typeof reply === 'number' && reply > 0) return { kind: 'wait', waitMs: reply };
  throw new UnexpectedReplyError('limiter-acquire', reply);
}

export interface LimiterRecordArgs {
  scope: string;
  /** Hold every worker back this long from now (0: no hold). */
  holdMs: number;
  /** The provider's request limit per window (0: unknown). */
  limit: number;
  /** The window's length in ms (0: unknown). */
  windowMs: number;
  graceMs: number;
}

export type LimiterRecordReply = { kind: 'open' } | { kind: 'held'; holdMs: number };

/** Feeds one answer's rate-limit headers (parsed) to the scope. */
export async function limiterRecord(env: ScriptEnv, a: LimiterRecordArgs): Promise<LimiterRecordReply> {
  const reply = await env.run('batonLimiterRecord', [env.keys.providerLimit(a.scope)], [a.holdMs, a.limit, a.windowMs, a.graceMs]);
  if (reply === 0) return { kind: 'open' };
  if (typeof reply === 'number' && reply > 0) return { kind: 'held', holdMs: reply };
  throw new UnexpectedReplyError('limiter-record', reply);
}
