import { z } from 'zod';

/**
 * The human in the loop: what a task waits for while it is `awaiting_input`,
 * and what a user sends back.
 *
 * A request is made by a tool call (`toolCallId`): a question for the user
 * (`ask_followup_question`) or an approval of a tool call. The response is
 * stored on the task under that tool call id, so a handler replayed after a
 * crash finds it again (and uses it for the same tool call, exactly once in
 * the conversation, because its tool result is appended before the next
 * model request).
 */

export const QuestionRequestSchema = z.object({
  kind: z.literal('question'),
  question: z.string().min(1),
  followUp: z.array(z.string()).default([]),
});
export const ApprovalRequestSchema = z.object({
  kind: z.literal('approval'),
  /** The tool the model wants to call. */
  tool: z.string().min(1),
  /** Its arguments, as the model sent them (parsed JSON). */
  arguments: z.unknown(),
});
/** What `TaskContext.awaitInput` asks for. */
export const InputRequestSchema = z.discriminatedUnion('kind', [QuestionRequestSchema, ApprovalRequestSchema]);
export type InputRequest = z.input<typeof InputRequestSchema>;

/** A task's `pendingInput`: the request, when it was asked and by which tool call. */
export const PendingInputSchema = z.discriminatedUnion('kind', [
  QuestionRequestSchema.extend({ askedAt: z.string(), toolCallId: z.string() }),
  ApprovalRequestSchema.extend({ askedAt: z.string(), toolCallId: z.string() }),
]);
export type PendingInput = z.infer<typeof PendingInputSchema>;

export const AnswerResponseSchema = z.object({ kind: z.literal('answer'), answer: z.string() });
export const ApprovalResponseSchema = z.object({
  kind: z.literal('approval'),
  approved: z.boolean(),
  feedback: z.string().optional(),
});
/** What a user delivers (`Engine.deliverInput`), and what `awaitInput` returns. */
export const InputResponseSchema = z.discriminatedUnion('kind', [AnswerResponseSchema, ApprovalResponseSchema]);
export type InputResponse = z.infer<typeof InputResponseSchema>;

/** The response kind that answers a request kind. */
export function responseKindFor(request: InputRequest['kind']): InputResponse['kind'] {
  return request === 'question' ? 'answer' : 'approval';
}

/**
 * One canonical JSON text per response (fixed key order), so that the
 * delivery script can tell "the same answer again" from "another answer" by
 * comparing strings.
 */
export function encodeResponse(response: InputResponse): string {
  return response.kind === 'answer'
    ? JSON.stringify({ kind: 'answer', answer: response.answer })
    : JSON.stringify({ kind: 'approval', approved: response.approved, ...(response.feedback === undefined ? {} : { feedback: response.feedback }) });
}

export function decodeResponse(text: string): InputResponse {
  return InputResponseSchema.parse(JSON.parse(text));
}
