import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { IdSchema } from '../model/task';

export const OnBusySchema = z.enum(['enqueue', 'reject', 'interrupt']);
export type OnBusy = z.infer<typeof OnBusySchema>;

/** A root task submission, as the engine accepts it (the API maps HTTP onto this). */
export const SubmitInputSchema = z.strictObject({
  sessionId: IdSchema,
  prompt: z.string().min(1).max(200_000),
  mode: z.string().min(1).max(64).default('orchestrator'),
  onBusy: OnBusySchema.default('enqueue'),
  metadata: z.unknown().optional(),
  tenant: z.string().min(1).max(128).default('default'),
  idempotencyKey: z.string().min(1).max(255).optional(),
  /** Caller-chosen id (tests, imports); generated otherwise. */
  taskId: IdSchema.optional(),
});
export type SubmitInput = z.input<typeof SubmitInputSchema>;

export function newTaskId(): string {
  return `t_${randomUUID().replace(/-/g, '')}`;
}

/** Hash of what makes two submissions "the same" for an idempotency key. */
export function payloadHash(input: z.output<typeof SubmitInputSchema>): string {
  const canonical = JSON.stringify([input.prompt, input.mode, input.onBusy, input.metadata ?? null]);
  return createHash('sha256').update(canonical).digest('hex');
}
