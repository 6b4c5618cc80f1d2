/**
 * Wrappers of the scripts that change one task: start-task-4, transition-7,
 * turn-boundary-5, spawn-child-4, append-messages-3, condense-conversation-3. Runner writes carry the
 * runner token; a `staleToken` reply means this runner was fenced out. Transition, turn boundary
 * and append also carry a runner's pending writes (CarriedWrites), so that messages and turn
 * bookkeeping ride on the next script the runner sends anyway.
 */
import type { EventType } from '../model/event';
import { decodeMessages, type Message } from '../model/message';
import { isTerminal, taskMachine, type Task, type TaskStatus } from '../model/task';
import { decodeTask, type TaskHash } from '../store/task-record';
import type { ConversationVersion } from '../model/message';
import { eventsTrim, hashOf, scriptCodeName, UnexpectedReplyError, type ScriptEnv } from './reply';

/**
 * Writes a runner has made since its last script and carries to the next one
 * (lua/includes/carried-writes): messages, appended compare-and-set at their
 * expected length, then task fields and events, all fenced by the script's
 * runner token check.
 */
export interface CarriedWrites {
  append?: { expectedLength: number; encoded: string[] };
  fields?: Record<string, string | number>;
  events?: { type: EventType; data?: Record<string, unknown> }[];
  /** Roll-ups this runner applied to their targets (usage/rollups): deleted from the session's pending ones. */
  forgetRollups?: { key: string; ids: string[] };
}

/** The tail of ARGV that carries `c` (expected length, meta, messages); none: nothing carried. */
export function carriedArgs(c: CarriedWrites | undefined): (string | number)[] {
  if (!c) return [];
  const events = c.events?.map((e) => [e.type, JSON.stringify(e.data ?? {})]);
  const forget = c.forgetRollups?.ids.length ? { rk: c.forgetRollups.key, r: c.forgetRollups.ids } : {};
  const meta = c.fields || events?.length || forget.r ? JSON.stringify({ f: c.fields, e: events, ...forget }) : '';
  return [c.append ? c.append.expectedLength : '', meta, ...(c.append?.encoded ?? [])];
}

/** A hash's fields that exist (HMGET answers null for the others). */
function definedFields(fields: Record<string, string | null | undefined>): TaskHash {
  return Object.fromEntries(Object.entries(fields).filter((e): e is [string, string] => typeof e[1] === 'string')) as TaskHash;
}

export type StartTaskReply =
  | {
      kind: 'ok';
      token: string;
      previous: TaskStatus;
      task: Task;
      messages: Message[];
      version: ConversationVersion;
      /** The newest child's outcome fields (what a parent resumed after it ended needs), if the task has children. */
      lastChild?: { id: string; hash: TaskHash };
      /** Whether the task's tree has a budget (on its root): without one, its turns need no reservation. */
      treeBudgeted: boolean;
    }
  | { kind: 'notFound' }
  | { kind: 'terminal'; status: TaskStatus }
  | { kind: 'illegalTransition'; status: TaskStatus };

/** Takes a fresh runner fence on the task and returns it with its children, conversation and conversation version. */
export async function startTask(env: ScriptEnv, sessionId: string, taskId: string): Promise<StartTaskReply> {
  const { keys, options } = env;
  const reply = (await env.run(
    'batonStartTask',
    [keys.task(sessionId, taskId), keys.fence(sessionId), keys.events(sessionId), keys.parked(sessionId)],
    [taskId, taskMachine.sourcesOf('running').join(','), eventsTrim(options), keys.sessionBase(sessionId)],
  )) as [number, string, string, string[]?, string[]?, string[]?, (string | null)[]?, number?];
  const [code, token, status, taskFlat = [], childIds = [], conversation = [], lastFields = [], treeBudgeted = 1] = reply;
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok': {
      const hash = hashOf(taskFlat);
      const version = { version: Number(hash.convVersion ?? 0), turnOffset: Number(hash.turnOffset ?? 0) };
      const lastId = childIds[childIds.length - 1];
      const [cStatus, result, errorCode, errorMessage] = lastFields;
      const lastChild = lastId && cStatus ? { id: lastId, hash: definedFields({ status: cStatus, result, errorCode, errorMessage }) } : undefined;
      return {
        kind,
        token,
        previous: status as TaskStatus,
        task: decodeTask(hash, childIds),
        messages: decodeMessages(conversation),
        version,
        ...(lastChild ? { lastChild } : {}),
        treeBudgeted: treeBudgeted === 1,
      };
    }
    case 'notFound':
      return { kind };
    case 'alreadyFinal':
      return { kind: 'terminal', status: status as TaskStatus };
    case 'illegalTransition':
      return { kind, status: status as TaskStatus };
    default:
      throw new UnexpectedReplyError('start-task', reply);
  }
}

export interface TransitionArgs {
  sessionId: string;
  taskId: string;
  to: TaskStatus;
  /** Runner token; omit for a system transition (cancel, reconciler, failed job). */
  token?: string;
  fields?: Record<string, string | number>;
  event?: { type: EventType; data?: Record<string, unknown> };
  /** A runner's pending writes, applied first in the same script (runner transitions only). */
  carry?: CarriedWrites;
}

export type TransitionReply =
  | {
      kind: 'ok';
      previous: TaskStatus;
      /** Roots handed the lease (a root ended): they must become jobs. */
      dispatched: string[];
      /** Task ids of a tree this transition closed, whose task-index entries must follow to `closedAt` (epoch ms). */
      closedIds: string[];
      closedAt: number;
    }
  | { kind: 'notFound' }
  | { kind: 'staleToken'; previous: TaskStatus }
  | { kind: 'illegalTransition'; previous: TaskStatus }
  /** The carried messages were refused: the conversation has `length` messages (nothing applied). */
  | { kind: 'lengthMismatch'; length: number };

/** A status change guarded by the task state machine and the runner fence. */
export async function transition(env: ScriptEnv, a: TransitionArgs): Promise<TransitionReply> {
  const { keys, options } = env;
  const s = a.sessionId;
  const reply = (await env.run(
    'batonTransition',
    [keys.task(s, a.taskId), keys.events(s), keys.gate(s, a.taskId), keys.session(s), keys.lane(s), keys.active(s), keys.conversation(s, a.taskId)],
    [
      a.token ?? '',
      a.to,
      taskMachine.sourcesOf(a.to).join(','),
      JSON.stringify(a.fields ?? {}),
      a.event?.type ?? '',
      JSON.stringify(a.event?.data ?? {}),
      eventsTrim(options),
      isTerminal(a.to) ? options.gateTtlMs : 0,
      a.taskId,
      keys.sessionBase(s),
      ...carriedArgs(a.carry),
    ],
  )) as [number, string, string[], string[]?, number?];
  const [code, previous, dispatched, closedIds = [], closedAt = 0] = reply;
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind, previous: previous as TaskStatus, dispatched, closedIds, closedAt: Number(closedAt) };
    case 'notFound':
      return { kind };
    case 'staleToken':
    case 'illegalTransition':
      return { kind, previous: previous as TaskStatus };
    case 'lengthMismatch':
      return { kind, length: Number(previous) };
    default:
      throw new UnexpectedReplyError('transition', reply);
  }
}

export type TurnBoundaryReply =
  /** The session is not paused: go on (`turn.started` recorded when a turn was given). */
  | { kind: 'carryOn' }
  /** The session is paused: the task is parked now. */
  | { kind: 'parked' }
  | { kind: 'staleToken' }
  | { kind: 'notRunning' }
  /** The carried messages were refused: the conversation has `length` messages (nothing applied). */
  | { kind: 'lengthMismatch'; length: number };

const PARKED = 1;

/** Parks the task if its session is paused, else records `turn.started` (a turn given); applies `carry` first. */
export async function turnBoundary(
  env: ScriptEnv,
  sessionId: string,
  taskId: string,
  token: string,
  turn?: number,
  carry?: CarriedWrites,
): Promise<TurnBoundaryReply> {
  const { keys, options } = env;
  const reply = (await env.run(
    'batonTurnBoundary',
    [keys.session(sessionId), keys.task(sessionId, taskId), keys.parked(sessionId), keys.events(sessionId), keys.conversation(sessionId, taskId)],
    [token, taskId, eventsTrim(options), turn ?? '', ...carriedArgs(carry)],
  )) as [number, number];
  const [code, length] = reply;
  if (code === PARKED) return { kind: 'parked' };
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind: 'carryOn' };
    case 'staleToken':
      return { kind };
    case 'illegalTransition':
      return { kind: 'notRunning' };
    case 'lengthMismatch':
      return { kind, length };
    default:
      throw new UnexpectedReplyError('turn-boundary', reply);
  }
}

export interface SpawnChildArgs {
  sessionId: string;
  parentId: string;
  /** The parent's runner token. */
  token: string;
  childId: string;
  /** The child's fields (status and times are set by the script). */
  fields: Record<string, string>;
}

export type SpawnChildReply =
  | { kind: 'created' }
  /** A replayed spawn: the child was created before. */
  | { kind: 'exists' }
  | { kind: 'staleToken' }
  | { kind: 'parentNotRunning' }
  | { kind: 'maxDepthExceeded'; limit: number }
  | { kind: 'maxChildrenExceeded'; limit: number };

const EXISTS = 1;

export async function spawnChild(env: ScriptEnv, a: SpawnChildArgs): Promise<SpawnChildReply> {
  const { keys, options } = env;
  const s = a.sessionId;
  const code = (await env.run(
    'batonSpawnChild',
    [keys.task(s, a.parentId), keys.task(s, a.childId), keys.children(s, a.parentId), keys.events(s)],
    [a.token, a.childId, JSON.stringify(a.fields), eventsTrim(options), options.maxDepth, options.maxChildrenPerTask],
  )) as number;
  if (code === EXISTS) return { kind: 'exists' };
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind: 'created' };
    case 'staleToken':
      return { kind };
    case 'illegalTransition':
      return { kind: 'parentNotRunning' };
    case 'maxDepthExceeded':
      return { kind, limit: options.maxDepth };
    case 'maxChildrenExceeded':
      return { kind, limit: options.maxChildrenPerTask };
    default:
      throw new UnexpectedReplyError('spawn-child', code);
  }
}

export type AppendMessagesReply =
  | { kind: 'ok'; length: number }
  | { kind: 'staleToken'; length: number }
  /** The conversation does not have the expected length: `length` is what it has. */
  | { kind: 'lengthMismatch'; length: number };

/**
 * Compare-and-set append (expected length), fenced by the runner token, with the runner's other
 * carried writes (fields, events). `carry.append.encoded`: JSON messages.
 */
export async function appendMessages(env: ScriptEnv, sessionId: string, taskId: string, token: string, carry: CarriedWrites): Promise<AppendMessagesReply> {
  const { keys, options } = env;
  const reply = (await env.run(
    'batonAppendMessages',
    [keys.conversation(sessionId, taskId), keys.task(sessionId, taskId), keys.events(sessionId)],
    [token, taskId, eventsTrim(options), ...carriedArgs(carry)],
  )) as [number, number];
  const [code, length] = reply;
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
    case 'staleToken':
    case 'lengthMismatch':
      return { kind, length };
    default:
      throw new UnexpectedReplyError('append-messages', reply);
  }
}

export interface CondenseConversationArgs {
  sessionId: string;
  taskId: string;
  token: string;
  expectedLength: number;
  /** The task's `convVersion` the caller condensed from (0 before the first condense). */
  expectedVersion: number;
  /** Turns of the task before the new version's first assistant message (see agent/condense in the worker). */
  turnOffset: number;
  /** The new live conversation (JSON messages). */
  encoded: string[];
}

export type CondenseConversationReply =
  | { kind: 'ok'; length: number; version: number }
  | { kind: 'staleToken'; length: number; version: number }
  /** The conversation has another length or version than expected: these are what it has. */
  | { kind: 'lengthMismatch'; length: number; version: number };

/** Archives the live conversation and replaces it (CAS on length and version, fenced by the runner token). */
export async function condenseConversation(env: ScriptEnv, a: CondenseConversationArgs): Promise<CondenseConversationReply> {
  const { keys } = env;
  const reply = (await env.run(
    'batonCondenseConversation',
    [keys.conversation(a.sessionId, a.taskId), keys.task(a.sessionId, a.taskId), keys.conversationArchive(a.sessionId, a.taskId)],
    [a.token, a.expectedLength, a.expectedVersion, a.turnOffset, ...a.encoded],
  )) as [number, number, number];
  const [code, length, version] = reply;
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
    case 'staleToken':
    case 'lengthMismatch':
      return { kind, length, version };
    default:
      throw new UnexpectedReplyError('condense-conversation', reply);
  }
}
