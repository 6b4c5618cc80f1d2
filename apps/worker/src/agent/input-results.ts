/**
 * The tool results the model sees for the human in the loop, worded as
 * KiloCode words them, so prompts written for it read the same here.
 */

/** `ask_followup_question`'s result: the user's answer. */
export function answerResult(answer: string): string {
  return `<answer>\n${answer}\n</answer>`;
}

/** A tool call the user denied (nothing ran). */
export function denialResult(feedback?: string): string {
  if (!feedback) return 'The user denied this operation.';
  return `The user denied this operation and provided the following feedback:\n<feedback>\n${feedback}\n</feedback>`;
}

/** Appended to the result of an approved call when the user added feedback. */
export function approvalContext(feedback: string): string {
  return `\n\nThe user approved this operation and provided the following context:\n<feedback>\n${feedback}\n</feedback>`;
}
