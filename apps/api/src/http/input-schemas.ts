import { IdempotencyKeySchema } from './schemas';
import type { InputResponse } from '@baton/core';
import { z } from 'zod';

/**
 * `POST /v1/tasks/{taskId}/input`: `{"answer": "..."}` answers a question;
 * `{"approved": true|false, "feedback"?: "..."}` approves or denies a tool
 * call. One strict object (not a union) so that a wrong body gets one
 * message saying what to send instead of a union's "invalid input".
 */
export const INPUT_MAX_CHARS = 100_000;

const HOW = 'send {"answer": "..."} to answer a question, or {"approved": true|false, "feedback"?: "..."} to approve or deny a tool call';

export const InputBodySchema = z
  .strictObject({
    answer: z.string().min(1, 'answer must not be empty').max(INPUT_MAX_CHARS).optional().describe('The answer to a question (pendingInput.kind "question")'),
    approved: z.boolean().optional().describe('Approve (true) or deny (false) a tool call (pendingInput.kind "approval")'),
    feedback: z.string().max(INPUT_MAX_CHARS).optional().describe('With approved: told to the model with the approval or the denial'),
  })
  .superRefine((body, ctx) => {
    if (body.answer === undefined && body.approved === undefined) ctx.addIssue({ code: 'custom', message: HOW });
    if (body.answer !== undefined && body.approved !== undefined)
      ctx.addIssue({ code: 'custom', path: ['approved'], message: `answer and approved exclude each other: ${HOW}` });
    if (body.answer !== undefined && body.feedback !== undefined)
      ctx.addIssue({ code: 'custom', path: ['feedback'], message: 'feedback goes with approved, not with answer' });
  });
export type InputBody = z.output<typeof InputBodySchema>;

export const InputHeadersSchema = z.object({
  'idempotency-key': IdempotencyKeySchema.optional().describe(
    'A retry with the same key and body answers as the first (Idempotent-Replayed: true); with another body, 409.',
  ),
});

/** The body as the engine's response (the schema guarantees one of the two forms). */
export function toInputResponse(body: InputBody): InputResponse {
  if (body.answer !== undefined) return { kind: 'answer', answer: body.answer };
  return { kind: 'approval', approved: body.approved!, ...(body.feedback === undefined ? {} : { feedback: body.feedback }) };
}
