/**
 * Wrappers of the session-lane scripts: submit-root-6, finish-root-3,
 * set-paused-5. Each builds its keys from the key schema, packs its
 * arguments and decodes its reply into a discriminated union.
 */
import type { NewTaskFields } from '../store/task-record';
import { cancelledPairs, eventsTrim, scriptCodeName, UnexpectedReplyError, type CancelledTask, type ScriptEnv } from './reply';

export interface SubmitRootArgs {
  sessionId: string;
  taskId: string;
  fields: NewTaskFields;
  payloadHash: string;
  tenant: string;
  idempotencyKey?: string;
  onBusy: 'enqueue' | 'reject' | 'interrupt';
  /** Epoch ms after which the script refuses to apply the submission; 0 for none. */
  deadline: number;
}

export type SubmitRootReply =
  | { kind: 'created'; taskId: string; dispatched: string[]; cancelled: CancelledTask[]; createdAt: number }
  | { kind: 'replayed'; taskId: string }
  | { kind: 'idempotencyConflict'; existingTaskId: string }
  | { kind: 'sessionBusy'; busyTaskId: string }
  /** The session belongs to another tenant or is being deleted. */
  | { kind: 'notFound' }
  | { kind: 'taskExists'; taskId: string }
  | { kind: 'sessionQueueFull' }
  | { kind: 'deadlinePassed' };

/** submit-root's own success code: an idempotent replay. */
const REPLAYED = 1;

export async function submitRoot(env: ScriptEnv, a: SubmitRootArgs): Promise<SubmitRootReply> {
  const { keys, options } = env;
  const s = a.sessionId;
  const reply = (await env.run(
    'batonSubmitRoot',
    [
      keys.session(s),
      keys.lane(s),
      keys.active(s),
      keys.events(s),
      a.idempotencyKey ? keys.idempotency(s, a.tenant, a.idempotencyKey) : keys.session(s),
      keys.task(s, a.taskId),
    ],
    [
      keys.sessionBase(s),
      a.taskId,
      JSON.stringify(a.fields),
      a.payloadHash,
      a.idempotencyKey ? '1' : '0',
      options.idempotencyTtlMs,
      a.onBusy,
      eventsTrim(options),
      keys.parked(s),
      keys.fence(s),
      a.tenant,
      options.sessionConcurrency,
      options.gateTtlMs,
      options.retentionMs,
      options.maxQueuedRootsPerSession,
      a.deadline,
    ],
  )) as [number, string, string[], string[], number?];
  const [code, id, dispatched, cancelled, createdAt] = reply;
  if (code === REPLAYED) return { kind: 'replayed', taskId: id };
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind: 'created', taskId: id, dispatched, cancelled: cancelledPairs(cancelled), createdAt: Number(createdAt) };
    case 'idempotencyConflict':
      return { kind, existingTaskId: id };
    case 'sessionBusy':
      return { kind, busyTaskId: id };
    case 'taskExists':
      return { kind, taskId: id };
    case 'notFound':
    case 'sessionQueueFull':
    case 'deadlinePassed':
      return { kind };
    default:
      throw new UnexpectedReplyError('submit-root', reply);
  }
}

export interface FinishRootReply {
  kind: 'ok';
  /** The root held the lease and released it now. */
  released: boolean;
  /** Roots handed the lease: they must become jobs. */
  dispatched: string[];
}

/** Releases `rootId`'s lease if it holds one ('' for none) and dispatches lane heads. */
export async function finishRoot(env: ScriptEnv, sessionId: string, rootId: string): Promise<FinishRootReply> {
  const { keys } = env;
  const [removed, dispatched] = (await env.run(
    'batonFinishRoot',
    [keys.session(sessionId), keys.lane(sessionId), keys.active(sessionId)],
    [keys.sessionBase(sessionId), rootId],
  )) as [number, string[]];
  return { kind: 'ok', released: removed > 0, dispatched };
}

export interface SetPausedReply {
  kind: 'changed' | 'unchanged';
  /** Roots dispatched by a resume: they must become jobs. */
  dispatched: string[];
  /** On resume: parked tasks whose delayed jobs must be promoted. */
  parked: string[];
}

export async function setPaused(env: ScriptEnv, sessionId: string, paused: boolean): Promise<SetPausedReply> {
  const { keys, options } = env;
  const [changed, dispatched, parked] = (await env.run(
    'batonSetPaused',
    [keys.session(sessionId), keys.lane(sessionId), keys.active(sessionId), keys.parked(sessionId), keys.events(sessionId)],
    [keys.sessionBase(sessionId), paused ? '1' : '0', eventsTrim(options)],
  )) as [number, string[], string[]];
  return { kind: changed === 1 ? 'changed' : 'unchanged', dispatched, parked };
}
