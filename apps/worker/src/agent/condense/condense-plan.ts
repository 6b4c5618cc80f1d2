import { conversationProblems, type Message } from '@baton/core';
import { ProviderError } from '../../providers/model-provider';
import { assistantCount } from '../conversation';
import { CONDENSE_REQUEST, CONDENSE_SYSTEM_PROMPT } from './condense-prompt';

/**
 * Pure parts of context condensing: where to cut, what the summary request
 * holds, and what the live conversation becomes.
 *
 * A condensed conversation is `[system, user, ...kept]` where the user
 * message is the task's first user message verbatim followed by the summary
 * in a `<conversation_summary condense="n">` block (the mark: a reader or a
 * later condense finds the summary there). The summary is not a message of
 * its own because two user messages in a row are not well formed
 * (conversationProblems), and the kept messages start with an assistant
 * message. `kept` is the tail of the old conversation from the start of a
 * turn (an assistant message), so an assistant message and its tool results
 * are never separated.
 */

export const SUMMARY_OPEN = '<conversation_summary';
const SUMMARY_CLOSE = '</conversation_summary>';

/** The first user message's own text (without the summary a condense added to it). */
export function originalPrompt(content: string): string {
  const at = content.indexOf(`\n\n${SUMMARY_OPEN}`);
  return at === -1 ? content : content.slice(0, at);
}

/** The summary a condense put in the first user message, if any. */
export function summaryOf(messages: readonly Message[]): string | undefined {
  const content = messages[1]?.role === 'user' ? messages[1].content : '';
  const at = content.indexOf(SUMMARY_OPEN);
  if (at === -1) return undefined;
  const body = content.slice(content.indexOf('>', at) + 1);
  return body.slice(0, body.lastIndexOf(SUMMARY_CLOSE)).trim();
}

/**
 * Index of the first kept message, or undefined when nothing can be
 * condensed. Keeps at least `keep` messages where it can, moved back to the
 * start of a turn (an assistant message); at least one assistant message
 * must go into the summary, else there is nothing to gain. When every turn
 * start lies within the last `keep` messages, the earliest one is taken;
 * with a single turn, everything after the first user message is summarized.
 * The conversation must be well formed (no unanswered tool call): a
 * condense runs between turns.
 */
export function findCut(messages: readonly Message[], keep: number): number | undefined {
  if (messages[0]?.role !== 'system' || messages[1]?.role !== 'user') return undefined;
  if (conversationProblems(messages).length > 0) return undefined;
  const starts = messages.flatMap((m, i) => (m.role === 'assistant' && i > 2 ? [i] : []));
  const fitting = starts.filter((i) => i <= messages.length - keep);
  if (fitting.length) return fitting[fitting.length - 1];
  if (starts.length) return starts[0];
  return messages.slice(2).some((m) => m.role === 'assistant') ? messages.length : undefined;
}

/**
 * The summary request: the condense prompt as system prompt, the messages
 * before the cut (the first user message included, the task's system prompt
 * left out), and the request to summarize (joined to a last user message,
 * so no two user messages follow each other).
 */
export function summaryRequestMessages(messages: readonly Message[], cut: number): Message[] {
  const body = messages.slice(1, cut);
  const last = body[body.length - 1];
  const ask: Message[] =
    last?.role === 'user'
      ? [...body.slice(0, -1), { role: 'user', content: `${last.content}\n\n${CONDENSE_REQUEST}` }]
      : [...body, { role: 'user', content: CONDENSE_REQUEST }];
  return [{ role: 'system', content: CONDENSE_SYSTEM_PROMPT }, ...ask];
}

/** The live conversation after condense `n`: system, first user message with the summary, and the kept tail. */
export function condensedConversation(messages: readonly Message[], cut: number, summary: string, n: number): Message[] {
  const [system, first] = messages;
  if (system?.role !== 'system' || first?.role !== 'user') throw new Error('a conversation starts with its system and user messages');
  const content = `${originalPrompt(first.content)}\n\n${SUMMARY_OPEN} condense="${n}">\nThe earlier part of this task's conversation was condensed into this summary:\n\n${summary.trim()}\n${SUMMARY_CLOSE}`;
  return [system, { role: 'user', content }, ...messages.slice(cut)];
}

/**
 * Turn numbering survives a condense: the loop numbers turns `turnOffset +
 * assistant messages + 1`, and a condense adds the assistant messages it
 * removed to the offset, so the next turn keeps its number (and its gate key).
 */
export function nextTurnOffset(turnOffset: number, before: readonly Message[], after: readonly Message[]): number {
  return turnOffset + assistantCount(before) - assistantCount(after);
}

/**
 * A provider's "the conversation is too long" refusal: OpenAI's 400
 * `context_length_exceeded` ("This model's maximum context length is ..."),
 * Anthropic's 400 "prompt is too long", and the 413 some gateways answer.
 */
export function isContextTooLong(err: unknown): err is ProviderError {
  if (!(err instanceof ProviderError) || (err.status !== 400 && err.status !== 413)) return false;
  return /context_length_exceeded|maximum context length|context length|prompt is too long|context window|too many tokens/i.test(err.message);
}
