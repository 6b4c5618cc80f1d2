/**
 * Wrapper of the streaming script emit-delta-3: a live `message.delta` event,
 * appended only by the holder of the turn's gate lease (see the worker's
 * agent/delta-publisher).
 */
import type { TurnKey } from './turn-key';
import { eventsTrim, UnexpectedReplyError, type ScriptEnv } from './reply';

export type EmitDeltaReply = { kind: 'emitted'; id: string } | { kind: 'leaseLost' };

const EMITTED = 1;
const LEASE_LOST = 0;

/** Appends a `message.delta` event with `data` (JSON) to the session stream, fenced by the turn's gate token. */
export async function emitDelta(env: ScriptEnv, k: TurnKey, gateToken: string, data: string): Promise<EmitDeltaReply> {
  const { keys, options } = env;
  const reply = (await env.run(
    'batonEmitDelta',
    [keys.gate(k.sessionId, k.taskId), keys.task(k.sessionId, k.taskId), keys.events(k.sessionId)],
    [k.turn, gateToken, eventsTrim(options), k.taskId, data],
  )) as [number, string?];
  if (reply[0] === EMITTED && typeof reply[1] === 'string') return { kind: 'emitted', id: reply[1] };
  if (reply[0] === LEASE_LOST) return { kind: 'leaseLost' };
  throw new UnexpectedReplyError('emit-delta', reply);
}
