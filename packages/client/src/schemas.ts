import { z } from 'zod';

/**
 * Zod schemas of the HTTP API's response bodies (a public
 * contract). The client validates every body it receives against them, so a
 * server that drifts from the contract fails loudly at the boundary instead of
 * deep inside a caller. Unknown extra fields are dropped, not rejected: the
 * server may add fields without breaking older clients.
 */

export const TASK_STATUSES = ['queued', 'running', 'waiting', 'paused', 'awaiting_input', 'completed', 'failed', 'cancelled'] as const;
export const TaskStatusSchema = z.enum(TASK_STATUSES);
export type TaskStatus = z.infer<typeof TaskStatusSchema>;

export const FINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
/** Terminal states are never left again (guarantee 7 in docs/design.md). */
export function isFinal(status: TaskStatus): boolean {
  return FINAL_STATUSES.includes(status);
}

export const ON_BUSY = ['enqueue', 'reject', 'interrupt'] as const;
export const OnBusySchema = z.enum(ON_BUSY);
export type OnBusy = z.infer<typeof OnBusySchema>;

/** Session and task ids: 1 to 128 of `A-Z a-z 0-9 . _ -`. */
export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'ids are 1 to 128 of A-Z a-z 0-9 . _ -');

const IsoTime = z.iso.datetime({ offset: true });

export const TaskErrorSchema = z.object({ code: z.string(), message: z.string() });
export type TaskError = z.infer<typeof TaskErrorSchema>;

/**
 * What a task `awaiting_input` waits for: an answer to a question (`followUp`:
 * suggested answers), or the approval of a tool call.
 */
export const PendingInputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('question'), question: z.string(), followUp: z.array(z.string()).default([]), askedAt: z.string().optional() }),
  z.object({ kind: z.literal('approval'), tool: z.string(), arguments: z.unknown(), askedAt: z.string().optional() }),
]);
export type PendingInput = z.infer<typeof PendingInputSchema>;

/** Tokens of committed turns (`inputTokens` includes `cachedTokens`); `unpricedTurns`: turns of a model with no price. */
export const UsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  cachedTokens: z.number().int().nonnegative(),
  turns: z.number().int().nonnegative(),
  unpricedTurns: z.number().int().nonnegative(),
});
export type Usage = z.infer<typeof UsageSchema>;

/** Limits of a task tree (`budget` on submit). */
export const BudgetSchema = z.object({
  maxTokens: z.number().int().positive().optional(),
  maxCostUsd: z.number().positive().optional(),
  maxTurns: z.number().int().positive().optional(),
});
export type Budget = z.infer<typeof BudgetSchema>;
export const ON_BUDGET = ['fail', 'ask'] as const;
export type OnBudget = (typeof ON_BUDGET)[number];

export const TaskSchema = z.object({
  id: IdSchema,
  sessionId: IdSchema,
  parentId: IdSchema.nullable(),
  rootId: IdSchema,
  mode: z.string(),
  prompt: z.string(),
  status: TaskStatusSchema,
  result: z.string().nullable(),
  error: TaskErrorSchema.nullable(),
  childIds: z.array(IdSchema),
  turns: z.number().int().nonnegative(),
  createdAt: IsoTime.nullable(),
  startedAt: IsoTime.nullable(),
  finishedAt: IsoTime.nullable(),
  /** Set while `status` is `awaiting_input` (absent from servers before the human in the loop). */
  pendingInput: PendingInputSchema.nullable().optional(),
  /** This task's own turns (absent from servers before usage). USD null: every turn was of an unpriced model. */
  usage: UsageSchema.optional(),
  cost: z.number().nullable().optional(),
  /** On a root: the whole tree's usage and cost, its budget (null: none), and what happens over budget. */
  treeUsage: UsageSchema.optional(),
  treeCost: z.number().nullable().optional(),
  budget: BudgetSchema.nullable().optional(),
  onBudget: z.enum(ON_BUDGET).optional(),
});
export type Task = z.infer<typeof TaskSchema>;

/** `GET /v1/tasks/{taskId}/tree`: the task with its descendants, nested. */
export interface TaskTree extends Task {
  children: TaskTree[];
}
export const TaskTreeSchema: z.ZodType<TaskTree> = TaskSchema.extend({
  children: z.lazy(() => z.array(TaskTreeSchema)),
});

export const SESSION_STATUSES = ['idle', 'running', 'paused'] as const;
export const SessionSchema = z.object({
  id: IdSchema,
  status: z.enum(SESSION_STATUSES),
  activeTaskId: IdSchema.nullable(),
  queuedTaskIds: z.array(IdSchema),
  usage: UsageSchema.optional(),
  cost: z.number().nullable().optional(),
});
export type Session = z.infer<typeof SessionSchema>;

/** `GET /v1/usage?from=&to=`: the caller's tenant by UTC day (days with usage only). */
export const TenantUsageSchema = z.object({
  from: z.string(),
  to: z.string(),
  days: z.array(z.object({ day: z.string(), usage: UsageSchema, cost: z.number().nullable() })),
  total: z.object({ usage: UsageSchema, cost: z.number().nullable() }),
});
export type TenantUsage = z.infer<typeof TenantUsageSchema>;

/** OpenAI chat-completions messages, as `GET /v1/tasks/{taskId}/messages` returns them. */
export const ToolCallSchema = z.object({
  id: z.string(),
  type: z.literal('function'),
  function: z.object({ name: z.string(), arguments: z.string() }),
});
export const MessageSchema = z.discriminatedUnion('role', [
  // An agent conversation's system message is a reference: content '' and ref `<mode>@<prompt hash>` (the prompt is rebuilt per request).
  z.object({ role: z.literal('system'), content: z.string(), ref: z.string().optional() }),
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({ role: z.literal('assistant'), content: z.string().nullable(), tool_calls: z.array(ToolCallSchema).optional() }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string(), content: z.string() }),
]);
export type Message = z.infer<typeof MessageSchema>;
export const MessagesResponseSchema = z.object({ messages: z.array(MessageSchema) });

/** An engine event as the export carries it (the same JSON as an SSE frame's `data:`). */
export const BatonEventSchema = z.object({
  id: z.string(),
  type: z.string(),
  sessionId: IdSchema,
  taskId: IdSchema.nullable(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type BatonEvent = z.infer<typeof BatonEventSchema>;

/** `GET /v1/tasks/{taskId}/export`: a task tree, every conversation of it and its events, in one document. */
export const TreeExportSchema = z.object({
  version: z.literal(1),
  exportedAt: IsoTime,
  root: TaskTreeSchema,
  /** Each task's conversation, by task id. */
  conversations: z.record(IdSchema, z.array(MessageSchema)),
  /** Conversation versions that context condensing replaced, by task id, oldest first. */
  archivedConversations: z
    .record(IdSchema, z.array(z.object({ version: z.number(), condensedAt: z.number(), turnOffset: z.number(), messages: z.array(MessageSchema) })))
    .optional(),
  events: z.array(BatonEventSchema),
});
export type TreeExport = z.infer<typeof TreeExportSchema>;

/** `DELETE /v1/sessions/{sessionId}`: `deleted` (204), or `stopping` (202) while a worker still holds one of its tasks. */
export const SESSION_DELETION_STATES = ['deleted', 'stopping'] as const;
export type SessionDeletionState = (typeof SESSION_DELETION_STATES)[number];
export const SessionDeletionSchema = z.object({ sessionId: IdSchema, state: z.literal('stopping') });
export interface SessionDeletion {
  sessionId: string;
  state: SessionDeletionState;
}

/** RFC 9457 problem details (`application/problem+json`). */
export const ProblemSchema = z.looseObject({
  type: z.string().default('about:blank'),
  title: z.string(),
  status: z.number().int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
});
export type Problem = z.infer<typeof ProblemSchema>;
