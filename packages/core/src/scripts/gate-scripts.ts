/**
 * Wrappers of the request-gate scripts: gate-begin-3, gate-renew-2,
 * gate-commit-6, gate-abandon-1. A turn key is `<taskId>:<turn>`; waiters
 * are woken on the gate channel with that key.
 */
import { UnexpectedReplyError, type ScriptEnv } from './reply';
import { turnKeyString, type TurnKey } from './turn-key';
import { decodeRecordUsage, usageKeysAndArgs, type RecordUsageReply, type TurnUsage } from './usage-scripts';

export { turnKeyString, type TurnKey };

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

export type GateCommitReply =
  /** `usage`: how the usage given with the commit was counted (absent when none was given, or the lease has no runner). */
  { kind: 'committed'; usage?: RecordUsageReply } | { kind: 'staleToken' };

/** Commits a turn's response; with `usage` (a runner's lease), counts the turn's usage in the same script. */
export async function gateCommit(env: ScriptEnv, k: TurnKey, token: string, response: string, usage?: TurnUsage): Promise<GateCommitReply> {
  const { keys } = env;
  const counted = usageKeysAndArgs(env, k, usage ?? { rootId: k.taskId });
  const reply = (await env.run('batonGateCommit', counted.keys, [
    k.turn,
    token,
    response,
    keys.gateChannel(),
    turnKeyString(k),
    ...(usage ? counted.args : []),
  ])) as [number, unknown[]?];
  if (reply[0] === 1) return reply[1] ? { kind: 'committed', usage: decodeRecordUsage(reply[1]) } : { kind: 'committed' };
  if (reply[0] === STALE) return { kind: 'staleToken' };
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
