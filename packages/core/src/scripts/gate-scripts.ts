/**
 * Wrappers of the request-gate scripts: gate-begin-3, gate-renew-2,
 * gate-commit-2, gate-abandon-1. A turn key is `<taskId>:<turn>`; waiters
 * are woken on the gate channel with that key.
 */
import { UnexpectedReplyError, type ScriptEnv } from './reply';

export interface TurnKey {
  sessionId: string;
  taskId: string;
  /** A turn number, or another request of the task through the gate (`condense:<n>`, see the worker's agent/condense). */
  turn: number | string;
}

/** The idempotency key of a turn, forwarded to the provider as `Idempotency-Key`. */
export function turnKeyString(k: TurnKey): string {
  return `${k.taskId}:${k.turn}`;
}

export type GateBegin =
  { kind: 'committed'; response: string } | { kind: 'granted'; token: string; grants: number } | { kind: 'inflight'; leaseUntil: number } | { kind: 'stale' };

const COMMITTED = 1;
const GRANTED = 2;
const INFLIGHT = 3;
const STALE = -2;

/** Replays the committed response, or grants a lease with a fresh token, or reports the live lease of another caller. */
export async function gateBegin(env: ScriptEnv, k: TurnKey, runnerToken = ''): Promise<GateBegin> {
  const { keys, options } = env;
  const reply = (await env.run(
    'batonGateBegin',
    [keys.gate(k.sessionId, k.taskId), keys.task(k.sessionId, k.taskId), keys.fence(k.sessionId)],
    [k.turn, runnerToken, options.gateLeaseMs],
  )) as [number, string?, (string | number)?];
  switch (reply[0]) {
    case COMMITTED:
      return { kind: 'committed', response: reply[1]! };
    case GRANTED:
      return { kind: 'granted', token: reply[1]!, grants: Number(reply[2]) };
    case INFLIGHT:
      return { kind: 'inflight', leaseUntil: Number(reply[1]) };
    case STALE:
      return { kind: 'stale' };
    default:
      throw new UnexpectedReplyError('gate-begin', reply);
  }
}

export type GateRenewReply = { kind: 'renewed' } | { kind: 'lost' };

export async function gateRenew(env: ScriptEnv, k: TurnKey, token: string): Promise<GateRenewReply> {
  const { keys, options } = env;
  const reply = await env.run('batonGateRenew', [keys.gate(k.sessionId, k.taskId), keys.task(k.sessionId, k.taskId)], [k.turn, token, options.gateLeaseMs]);
  if (reply === 1) return { kind: 'renewed' };
  if (reply === 0) return { kind: 'lost' };
  throw new UnexpectedReplyError('gate-renew', reply);
}

export type GateCommitReply = { kind: 'committed' } | { kind: 'staleToken' };

export async function gateCommit(env: ScriptEnv, k: TurnKey, token: string, response: string): Promise<GateCommitReply> {
  const { keys } = env;
  const reply = await env.run(
    'batonGateCommit',
    [keys.gate(k.sessionId, k.taskId), keys.task(k.sessionId, k.taskId)],
    [k.turn, token, response, keys.gateChannel(), turnKeyString(k)],
  );
  if (reply === 1) return { kind: 'committed' };
  if (reply === STALE) return { kind: 'staleToken' };
  throw new UnexpectedReplyError('gate-commit', reply);
}

export type GateAbandonReply = { kind: 'released' } | { kind: 'notHolder' };

export async function gateAbandon(env: ScriptEnv, k: TurnKey, token: string): Promise<GateAbandonReply> {
  const { keys } = env;
  const reply = await env.run('batonGateAbandon', [keys.gate(k.sessionId, k.taskId)], [k.turn, token, keys.gateChannel(), turnKeyString(k)]);
  if (reply === 1) return { kind: 'released' };
  if (reply === 0) return { kind: 'notHolder' };
  throw new UnexpectedReplyError('gate-abandon', reply);
}
