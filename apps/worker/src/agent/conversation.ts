import type { AssistantMessage, Message } from '@baton/core';

/**
 * Pure reads of a stored conversation: the agent loop derives where it is
 * from these alone (it is re-run from scratch after every park or crash).
 */

/**
 * The conversation as a request sends it: the stored system message (a
 * reference to the prompt the task started with, or the text itself in a
 * conversation stored before references) replaced by `system`, the prompt of
 * the task's current mode, built for this request.
 */
export function withSystemPrompt(messages: readonly Message[], system: string): Message[] {
  return messages[0]?.role === 'system' ? [{ role: 'system', content: system }, ...messages.slice(1)] : [...messages];
}

/** Turn n is the n-th assistant message; the next turn is their count + 1. */
export function assistantCount(messages: readonly Message[]): number {
  return messages.filter((m) => m.role === 'assistant').length;
}

export function lastAssistant(messages: readonly Message[]): { index: number; message: AssistantMessage } | undefined {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant') return { index: i, message: m };
  }
  return undefined;
}

/** Ids of the tool calls already answered after the message at `index`. */
export function answeredCalls(messages: readonly Message[], index: number): Set<string> {
  return new Set(messages.slice(index + 1).flatMap((m) => (m.role === 'tool' ? [m.tool_call_id] : [])));
}

/**
 * Makes tool-call ids unique in the conversation (a provider may repeat or
 * reuse them; answers are matched by id). Deterministic, so a replayed
 * response is normalised the same way.
 */
export function withUniqueCallIds(message: AssistantMessage, history: readonly Message[], turn: number): AssistantMessage {
  if (!message.tool_calls?.length) return message;
  const seen = new Set(history.flatMap((m) => (m.role === 'assistant' ? (m.tool_calls ?? []).map((c) => c.id) : [])));
  const calls = message.tool_calls.map((c, i) => {
    const id = seen.has(c.id) ? `call_t${turn}_${i}` : c.id;
    seen.add(id);
    return id === c.id ? c : { ...c, id };
  });
  return { ...message, tool_calls: calls };
}
