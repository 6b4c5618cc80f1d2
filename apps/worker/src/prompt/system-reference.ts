import { createHash } from 'node:crypto';
import type { Message } from '@baton/core';

/**
 * The system message a conversation stores: a reference to the prompt, not
 * its text. Every request rebuilds the system prompt from the task's current
 * mode (agent-loop's callModel replaces the stored system message), so the
 * text (several KiB with the tool list, the same for every task of a mode) was
 * a copy in every conversation that no request ever sent.
 *
 * The message stays first, so a conversation keeps its shape and length (the
 * appends' expected lengths, the condense's `[system, user, ...]`, readers of
 * `GET messages` that expect a system message first). `ref` says which
 * prompt the task started with: the mode's slug and a hash of the text, to
 * tell whether two tasks started with the same prompt.
 */
export function systemReference(modeSlug: string, prompt: string): Message {
  return { role: 'system', content: '', ref: `${modeSlug}@${createHash('sha256').update(prompt).digest('hex').slice(0, 16)}` };
}
