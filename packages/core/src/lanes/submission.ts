import { createHash, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { IdSchema } from '../model/task';
import { BudgetSchema, OnBudgetSchema } from '../model/usage';

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
  /** Limits of the whole tree (stored on the root; see usage/turn-metering). */
  budget: BudgetSchema.optional(),
  /** Over a budget: fail with BUDGET_EXCEEDED (default) or park for approval. */
  onBudget: OnBudgetSchema.optional(),
});
export type SubmitInput = z.input<typeof SubmitInputSchema>;

export function newTaskId(): string {
  return `t_${randomUUID().replace(/-/g, '')}`;
}

/** Hash of what makes two submissions "the same" for an idempotency key. */
export function payloadHash(input: z.output<typeof SubmitInputSchema>): string {
  const canonical = JSON.stringify([
    input.prompt,
    input.mode,
    input.onBusy,
    input.metadata ?? null,
    ...(input.budget || input.onBudget ? [input.budget ?? null, input.onBudget ?? null] : []),
  ]);
  return createHash('sha256').update(canonical).digest('hex');
}

/**
 * How long after it is sent a submission may still be applied, given the
 * caller's command timeout: half of it. Past that, the submit script refuses
 * to run (a frozen or slow Redis getting to it late), so a submission the
 * caller gave up on never appears later. The other half leaves a script that
 * ran just in time room for its reply to reach a busy caller before the
 * timeout fires. Relies on the caller's and Redis's clocks agreeing (NTP) to
 * well within that half.
 */
export function submitDeadlineMs(commandTimeoutMs: number): number {
  return Math.floor(commandTimeoutMs / 2);
}
