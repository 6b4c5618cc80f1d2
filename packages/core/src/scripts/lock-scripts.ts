/**
 * Wrappers of the fenced-lock scripts: lock-acquire-2, lock-renew-1,
 * lock-release-1. A lock is named by its key and fence counter (`LockKeys`,
 * built in keys.ts); its token is the fence counter's next value.
 */
import { UnexpectedReplyError, type ScriptEnv } from './reply';

export interface LockKeys {
  lock: string;
  fence: string;
}

export type LockAcquireReply = { kind: 'acquired'; token: string } | { kind: 'held' };

export async function lockAcquire(env: ScriptEnv, k: LockKeys, leaseMs: number): Promise<LockAcquireReply> {
  const reply = await env.run('batonLockAcquire', [k.lock, k.fence], [leaseMs]);
  if (reply === 0) return { kind: 'held' };
  if (typeof reply === 'string') return { kind: 'acquired', token: reply };
  throw new UnexpectedReplyError('lock-acquire', reply);
}

export type LockRenewReply = { kind: 'renewed' } | { kind: 'lost' };

export async function lockRenew(env: ScriptEnv, k: LockKeys, token: string, leaseMs: number): Promise<LockRenewReply> {
  const reply = await env.run('batonLockRenew', [k.lock], [token, leaseMs]);
  if (reply === 1) return { kind: 'renewed' };
  if (reply === 0) return { kind: 'lost' };
  throw new UnexpectedReplyError('lock-renew', reply);
}

export type LockReleaseReply = { kind: 'released' } | { kind: 'notHolder' };

export async function lockRelease(env: ScriptEnv, k: LockKeys, token: string): Promise<LockReleaseReply> {
  const reply = await env.run('batonLockRelease', [k.lock], [token]);
  if (reply === 1) return { kind: 'released' };
  if (reply === 0) return { kind: 'notHolder' };
  throw new UnexpectedReplyError('lock-release', reply);
}
