import type { Message } from '@baton/core';

/**
 * A provider-neutral token estimate, used only to decide when to condense:
 * about 4 characters of English or code per token (OpenAI's and Anthropic's
 * rule of thumb), counted over what is sent per message (content, tool-call
 * names and arguments, tool-call ids), plus a few tokens of framing per
 * message and per call. It runs before every turn, so it is pure and cheap,
 * not a tokenizer: leave headroom with `condenseAt` (0.8 by default), and a
 * provider's "context too long" answer still triggers a condense.
 */
export const CHARS_PER_TOKEN = 4;
/** Role and separators of one message, as chat templates spend them. */
export const TOKENS_PER_MESSAGE = 4;
/** Framing of one tool call (type, id and name fields). */
export const TOKENS_PER_CALL = 8;

export function estimateTokens(messages: readonly Message[]): number {
  let chars = 0;
  let framing = 0;
  for (const m of messages) {
    framing += TOKENS_PER_MESSAGE;
    chars += m.content?.length ?? 0;
    if (m.role === 'assistant') {
      for (const c of m.tool_calls ?? []) {
        framing += TOKENS_PER_CALL;
        chars += c.id.length + c.function.name.length + c.function.arguments.length;
      }
    }
    if (m.role === 'tool') chars += m.tool_call_id.length;
  }
  return Math.ceil(chars / CHARS_PER_TOKEN) + framing;
}
