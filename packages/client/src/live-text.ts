import { z } from 'zod';
import type { SessionEvent } from './event-stream';

/** The event type of a live piece of a streamed model response. */
export const MESSAGE_DELTA = 'message.delta';

/** A tool-call piece: `id` and `name` come once, when the call starts; `arguments` is JSON text to append. */
export const ToolCallDeltaSchema = z.object({
  index: z.number().int().min(0),
  id: z.string().optional(),
  name: z.string().optional(),
  arguments: z.string().optional(),
});
export type ToolCallDelta = z.infer<typeof ToolCallDeltaSchema>;

/**
 * The `data` of a `message.delta` event: pieces of turn `turn`'s response,
 * coalesced by the worker. `grant` (the turn's gate grant: another worker
 * took the turn over) and `attempt` (the provider's retry within it) order
 * the tries: only the highest (grant, attempt) seen is live, lower ones are
 * abandoned. `seq` increases by one per event of one worker's turn. Deltas
 * are not durable: once the turn ends they are deleted from the stream, and
 * `turn.completed` (then the conversation) has the committed message.
 */
export const MessageDeltaSchema = z.object({
  turn: z.number().int().min(1),
  grant: z.number().int().min(1),
  attempt: z.number().int().min(1),
  seq: z.number().int().min(1),
  text: z.string().optional(),
  toolCalls: z.array(ToolCallDeltaSchema).optional(),
});
export type MessageDelta = z.infer<typeof MessageDeltaSchema>;

/** The delta an SSE event carries (its frame's `data` is the whole event; the delta is its `data`), or null. */
export function messageDeltaOf(event: SessionEvent): MessageDelta | null {
  if (event.type !== MESSAGE_DELTA) return null;
  const parsed = MessageDeltaSchema.safeParse((event.data as { data?: unknown } | null)?.data);
  return parsed.success ? parsed.data : null;
}

/** What one delta changed in the live message of its (task, turn). */
export interface LiveChange {
  /** A higher try replaced what was shown: start over (the text and calls below are the new try's). */
  restarted: boolean;
  /** Text appended. */
  text: string;
  toolCalls: ToolCallDelta[];
}

interface LiveMessage {
  grant: number;
  attempt: number;
  text: string;
  toolCalls: Map<number, ToolCallDelta>;
}

/**
 * Assembles the live text and tool calls of each (taskId, turn) from its
 * deltas, keeping only the newest try: a delta of a lower (grant, attempt)
 * than the highest seen is dropped; a higher one starts the message over.
 */
export class LiveMessages {
  private readonly live = new Map<string, LiveMessage>();

  /** Applies a delta of `taskId`; null when it belongs to an abandoned try (dropped). */
  apply(taskId: string, delta: MessageDelta): LiveChange | null {
    const key = `${taskId}:${delta.turn}`;
    let message = this.live.get(key);
    let restarted = false;
    if (message) {
      const order = delta.grant - message.grant || delta.attempt - message.attempt;
      if (order < 0) return null;
      if (order > 0) {
        restarted = true;
        message = undefined;
      }
    }
    if (!message) {
      message = { grant: delta.grant, attempt: delta.attempt, text: '', toolCalls: new Map() };
      this.live.set(key, message);
    }
    message.text += delta.text ?? '';
    for (const piece of delta.toolCalls ?? []) {
      const call = message.toolCalls.get(piece.index) ?? { index: piece.index };
      if (piece.id !== undefined) call.id = piece.id;
      if (piece.name !== undefined) call.name = piece.name;
      if (piece.arguments) call.arguments = (call.arguments ?? '') + piece.arguments;
      message.toolCalls.set(piece.index, call);
    }
    return { restarted, text: delta.text ?? '', toolCalls: delta.toolCalls ?? [] };
  }

  /** The live text of (taskId, turn) so far ('' when none). */
  text(taskId: string, turn: number): string {
    return this.live.get(`${taskId}:${turn}`)?.text ?? '';
  }

  /** The live tool calls of (taskId, turn) so far, by index. */
  toolCalls(taskId: string, turn: number): ToolCallDelta[] {
    return [...(this.live.get(`${taskId}:${turn}`)?.toolCalls.values() ?? [])];
  }

  /** The turn committed (or ended): forget its live message. */
  end(taskId: string, turn: number): void {
    this.live.delete(`${taskId}:${turn}`);
  }
}
