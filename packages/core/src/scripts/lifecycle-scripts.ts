/**
 * Wrappers of the cancel and deletion scripts: cancel-6, stop-session-7,
 * delete-session-8, delete-tree-5, forget-session-1.
 */
import type { TaskStatus } from '../model/task';
import { cancelledPairs, eventsTrim, scriptCodeName, UnexpectedReplyError, type CancelledTask, type ScriptEnv } from './reply';

export type CancelReply =
  /** `cancelled` is empty when the task was cancelled already. */
  | { kind: 'ok'; previous: TaskStatus; cancelled: CancelledTask[] }
  | { kind: 'notFound' }
  /** Completed or failed: nothing to cancel. */
  | { kind: 'alreadyFinal'; status: TaskStatus };

/** Cancels a task and its descendants (a root keeps its lease until its job stops: finish-root). */
export async function cancel(env: ScriptEnv, sessionId: string, taskId: string, reason: string): Promise<CancelReply> {
  const { keys, options } = env;
  const s = sessionId;
  const reply = (await env.run(
    'batonCancel',
    [keys.session(s), keys.lane(s), keys.parked(s), keys.fence(s), keys.events(s), keys.task(s, taskId)],
    [keys.sessionBase(s), taskId, reason, eventsTrim(options), options.gateTtlMs],
  )) as [number, string, string[]];
  const [code, previous, flat] = reply;
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind, previous: previous as TaskStatus, cancelled: cancelledPairs(flat) };
    case 'notFound':
      return { kind };
    case 'alreadyFinal':
      return { kind, status: previous as TaskStatus };
    default:
      throw new UnexpectedReplyError('cancel', reply);
  }
}

/** The keys stop-session and delete-session share (in this order, see their headers). */
function sessionKeys(env: ScriptEnv, s: string): string[] {
  const { keys } = env;
  return [keys.session(s), keys.lane(s), keys.active(s), keys.parked(s), keys.fence(s), keys.events(s), keys.roots(s)];
}

export type StopSessionReply =
  /** `taskIds`: every task of every tree of the session. */
  { kind: 'ok'; cancelled: CancelledTask[]; taskIds: string[] } | { kind: 'notFound' };

/** Marks the session deleting (submits are refused) and cancels every tree that is not over. */
export async function stopSession(env: ScriptEnv, sessionId: string, reason: string): Promise<StopSessionReply> {
  const { keys, options } = env;
  const reply = (await env.run('batonStopSession', sessionKeys(env, sessionId), [
    keys.sessionBase(sessionId),
    reason,
    eventsTrim(options),
    options.gateTtlMs,
  ])) as [number, string[], string[]];
  const [code, cancelled, taskIds] = reply;
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind, cancelled: cancelledPairs(cancelled), taskIds };
    case 'notFound':
      return { kind };
    default:
      throw new UnexpectedReplyError('stop-session', reply);
  }
}

export type DeleteSessionReply =
  /** `taskIds`: the tasks whose keys went. */
  | { kind: 'deleted'; taskIds: string[] }
  /** A root still holds the lease. */
  | { kind: 'stopping' };

const STILL_STOPPING = 1;

/** Deletes every key of the session and of its trees (after stop-session, once no root holds the lease). */
export async function deleteSession(env: ScriptEnv, sessionId: string): Promise<DeleteSessionReply> {
  const { keys } = env;
  const reply = (await env.run('batonDeleteSession', [...sessionKeys(env, sessionId), keys.unindexed(sessionId)], [keys.sessionBase(sessionId)])) as [
    number,
    string[],
  ];
  const [code, taskIds] = reply;
  if (code === STILL_STOPPING) return { kind: 'stopping' };
  if (scriptCodeName(code) === 'ok') return { kind: 'deleted', taskIds };
  throw new UnexpectedReplyError('delete-session', reply);
}

export type DeleteTreeReply =
  /** `taskIds` went to the session's unindexed set: their task-index entries and jobs must follow. */
  | { kind: 'deleted'; taskIds: string[] }
  | { kind: 'notFound' }
  /** A task of the tree is not terminal, or the root still holds the lease. */
  | { kind: 'notTerminal' }
  | { kind: 'notRoot' };

export async function deleteTree(env: ScriptEnv, sessionId: string, rootId: string): Promise<DeleteTreeReply> {
  const { keys } = env;
  const s = sessionId;
  const reply = (await env.run(
    'batonDeleteTree',
    [keys.task(s, rootId), keys.roots(s), keys.active(s), keys.unindexed(s), keys.session(s)],
    [keys.sessionBase(s), rootId],
  )) as [number, string[]];
  const [code, taskIds] = reply;
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind: 'deleted', taskIds };
    case 'notFound':
    case 'notRoot':
      return { kind };
    case 'illegalTransition':
      return { kind: 'notTerminal' };
    default:
      throw new UnexpectedReplyError('delete-tree', reply);
  }
}

export type ForgetSessionReply = { kind: 'removed' } | { kind: 'kept' };

/** Drops the session from the reconciler's index unless it was touched since `score` was read. */
export async function forgetSession(env: ScriptEnv, sessionId: string, score: string): Promise<ForgetSessionReply> {
  const reply = await env.run('batonForgetSession', [env.keys.sessionIndex()], [sessionId, score]);
  if (reply === 1) return { kind: 'removed' };
  if (reply === 0) return { kind: 'kept' };
  throw new UnexpectedReplyError('forget-session', reply);
}
