import type { Message } from '@baton/core';

/**
 * The user messages that answer a reply without a tool call, after
 * KiloCode's `noToolsUsed` (worded for function calling instead of XML
 * tags). They are stored with the reply in one append, so a replayed turn
 * finds the nudge already there; the count of consecutive nudges is read
 * back from the conversation (the marker below), never kept in memory.
 */
export const NUDGE_MARKER = '[ERROR] You did not use a tool in your previous response!';
export const TRUNCATED_MARKER = '[ERROR] Your previous response was cut off at the output token limit (finish_reason: length)';

const NEXT_STEPS =
  '# Next Steps\n\n' +
  "If you have completed the user's task, use the attempt_completion tool.\n" +
  'If you require additional information from the user, use the ask_followup_question tool.\n' +
  'Otherwise, if you have not completed the task and do not need additional information, then proceed with the next step of the task.\n' +
  '(This is an automated message, so do not respond to it conversationally.)';

export function noToolsUsedNudge(): string {
  return (
    `${NUDGE_MARKER} Please retry with a tool use.\n\n` +
    '# Reminder: Instructions for Tool Use\n\n' +
    'Call one of the tools you were given (a function call). Text outside a tool call is not acted on and is not a result.\n\n' +
    NEXT_STEPS
  );
}

export function truncatedNudge(): string {
  return (
    `${TRUNCATED_MARKER}, before any tool call. Continue from where you stopped, in smaller pieces, and use a tool: ` +
    'for a long file, write it in parts (write_to_file, then apply_diff) instead of one very long call.\n\n' +
    NEXT_STEPS
  );
}

export function isNudge(message: Message): boolean {
  return message.role === 'user' && (message.content.startsWith(NUDGE_MARKER) || message.content.startsWith(TRUNCATED_MARKER));
}

/** Nudges since the last reply that called a tool (KiloCode's consecutive mistakes). */
export function consecutiveNudges(messages: readonly Message[]): number {
  let count = 0;
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i]!;
    if (m.role === 'assistant' && m.tool_calls?.length) break;
    if (isNudge(m)) count++;
  }
  return count;
}
