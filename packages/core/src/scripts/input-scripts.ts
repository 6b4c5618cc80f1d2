/**
 * Wrappers of the human-in-the-loop scripts: ask-input-2 (a runner parks its
 * task until a response arrives) and deliver-input-3 (a user's response).
 */
import { eventsTrim, scriptCodeName, UnexpectedReplyError, type ScriptEnv } from './reply';

export interface AskInputArgs {
  sessionId: string;
  taskId: string;
  /** The runner token. */
  token: string;
  toolCallId: string;
  kind: 'question' | 'approval';
  /** The request JSON (stored as `pendingInput`, sent as `task.input_required`'s data). */
  request: string;
  /** 0: wait forever. */
  timeoutMs: number;
}

export type AskInputReply =
  /** A response was delivered for this call: its canonical JSON. */
  | { kind: 'delivered'; response: string }
  /** Parked: asked at `askedAt` (ms), `now` is Redis time (ms). */
  | { kind: 'parked'; askedAt: number; now: number }
  | { kind: 'timedOut' }
  | { kind: 'staleToken' }
  | { kind: 'notRunning'; status: string };

const DELIVERED = 1;

export async function askInput(env: ScriptEnv, a: AskInputArgs): Promise<AskInputReply> {
  const { keys, options } = env;
  const [code, value, now] = (await env.run(
    'batonAskInput',
    [keys.task(a.sessionId, a.taskId), keys.events(a.sessionId)],
    [a.token, a.taskId, a.toolCallId, a.kind, a.request, eventsTrim(options), a.timeoutMs],
  )) as [number, string, number];
  if (code === DELIVERED) return { kind: 'delivered', response: value };
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind: 'parked', askedAt: Number(value), now: Number(now) };
    case 'inputTimedOut':
      return { kind: 'timedOut' };
    case 'staleToken':
      return { kind };
    case 'illegalTransition':
      return { kind: 'notRunning', status: value };
    default:
      throw new UnexpectedReplyError('ask-input', [code, value]);
  }
}

export interface DeliverInputArgs {
  sessionId: string;
  taskId: string;
  kind: 'answer' | 'approval';
  /** Canonical response JSON (model/pending-input.ts encodeResponse). */
  response: string;
  idempotencyKey?: string;
}

export type DeliverInputReply =
  | { kind: 'stored'; toolCallId: string }
  | { kind: 'replayed'; toolCallId: string }
  | { kind: 'notFound' }
  | { kind: 'notAwaitingInput'; status: string }
  | { kind: 'conflict'; toolCallId: string }
  /** The response does not answer the request; `requestKind` is what the task asked. */
  | { kind: 'kindMismatch'; requestKind: string };

const REPLAYED = 1;

export async function deliverInput(env: ScriptEnv, a: DeliverInputArgs): Promise<DeliverInputReply> {
  const { keys, options } = env;
  const [code, detail] = (await env.run(
    'batonDeliverInput',
    [keys.task(a.sessionId, a.taskId), keys.events(a.sessionId), keys.parked(a.sessionId)],
    [a.taskId, a.kind, a.response, a.idempotencyKey ?? '', eventsTrim(options), a.response],
  )) as [number, string];
  if (code === REPLAYED) return { kind: 'replayed', toolCallId: detail };
  const kind = scriptCodeName(code);
  switch (kind) {
    case 'ok':
      return { kind: 'stored', toolCallId: detail };
    case 'notFound':
      return { kind };
    case 'notAwaitingInput':
      return { kind, status: detail };
    case 'inputConflict':
      return { kind: 'conflict', toolCallId: detail };
    case 'inputKindMismatch':
      return { kind: 'kindMismatch', requestKind: detail };
    default:
      throw new UnexpectedReplyError('deliver-input', [code, detail]);
  }
}
