import {
  ArchivedConversationSchema,
  EventSchema,
  IdSchema,
  MessageSchema,
  OnBusySchema,
  TaskSchema,
  BudgetSchema,
  OnBudgetSchema,
  UsageSchema,
  SessionStatusSchema,
  type TreeExport,
  type Task,
  type TaskTree,
  type Session,
  MAX_USAGE_DAYS,
} from '@baton/core';
import { z } from 'zod';

/**
 * The public HTTP shapes. Request schemas are strict (unknown
 * fields are refused); response schemas list exactly what the API shows, so
 * engine-only fields (`tenant`, `metadata`, `activeTaskIds`) never leave.
 */

export const METADATA_MAX_BYTES = 16 * 1024;
export const PROMPT_MAX_CHARS = 200_000;

const Id = IdSchema.describe('1 to 128 of A-Z a-z 0-9 . _ -');

export const TaskParamsSchema = z.strictObject({ taskId: Id });
export const SessionParamsSchema = z.strictObject({ sessionId: Id });

export const SubmitBodySchema = z
  .strictObject({
    prompt: z.string().min(1).max(PROMPT_MAX_CHARS),
    mode: z
      .string()
      .min(1)
      .max(64)
      .regex(/^[A-Za-z0-9_-]+$/, 'modes are 1 to 64 of A-Z a-z 0-9 _ - (no dots: a mode slug is part of task ids and keys)')
      .default('orchestrator'),
    onBusy: OnBusySchema.default('enqueue'),
    metadata: z
      .unknown()
      .refine((m) => m !== undefined, 'metadata must be JSON')
      .refine((m) => Buffer.byteLength(JSON.stringify(m) ?? '', 'utf8') <= METADATA_MAX_BYTES, `metadata is limited to ${METADATA_MAX_BYTES} bytes of JSON`)
      .optional(),
    budget: BudgetSchema.optional().describe('Limits of the whole task tree (tokens are input + output); a turn that would start over one does not start'),
    onBudget: OnBudgetSchema.optional().describe(
      'Over a budget: "fail" (BUDGET_EXCEEDED, the default) or "ask" (park awaiting approval of continue_over_budget)',
    ),
  })
  .meta({ id: 'SubmitTask' });
export type SubmitBody = z.output<typeof SubmitBodySchema>;

/** An `Idempotency-Key` header value: 1 to 255 visible ASCII characters. */
export const IdempotencyKeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'visible ASCII only');

export const SubmitHeadersSchema = z.object({
  'idempotency-key': IdempotencyKeySchema.optional().describe('Replays with the same key and body return the first task (200, Idempotent-Replayed: true).'),
});

// The engine's Task without what stays inside the API (the owning tenant, the metadata).
export const PublicTaskSchema = TaskSchema.omit({ tenant: true, metadata: true }).meta({ id: 'Task' });
export type PublicTask = z.infer<typeof PublicTaskSchema>;

export interface PublicTaskTree extends PublicTask {
  children: PublicTaskTree[];
}

export const PublicTaskTreeSchema: z.ZodType<PublicTaskTree> = PublicTaskSchema.extend({
  get children(): z.ZodArray<z.ZodType<PublicTaskTree>> {
    return z.array(PublicTaskTreeSchema);
  },
}).meta({ id: 'TaskTree' });

export const MessagesSchema = z.object({ messages: z.array(MessageSchema) }).meta({ id: 'Messages' });

export const PublicSessionSchema = z
  .object({
    id: z.string(),
    status: SessionStatusSchema,
    activeTaskId: z.string().nullable(),
    queuedTaskIds: z.array(z.string()),
    usage: UsageSchema,
    cost: z.number().nullable(),
  })
  .meta({ id: 'Session' });
export type PublicSession = z.infer<typeof PublicSessionSchema>;

/** `DELETE /v1/sessions/{id}` answered 202: the session's work is being cancelled; its keys go once nothing runs. */
export const SessionDeletionSchema = z
  .object({ sessionId: z.string(), state: z.literal('stopping') })
  .meta({ id: 'SessionDeletion', description: 'Repeat the DELETE (or GET the session) until it answers 404.' });

/**
 * `GET /v1/tasks/{id}/export`: a tree archived as one document. The tasks
 * carry the public Task shape (no tenant, no metadata), like every other route.
 */
export const TreeExportDocumentSchema = z
  .object({
    version: z.literal(1),
    exportedAt: z.string().describe('ISO 8601 time of the export'),
    root: PublicTaskTreeSchema,
    conversations: z.record(z.string(), z.array(MessageSchema)).describe("Every task's conversation, by task id"),
    archivedConversations: z
      .record(z.string(), z.array(ArchivedConversationSchema))
      .optional()
      .describe('The conversation versions that context condensing replaced, by task id, oldest first (only tasks that have any)'),
    events: z.array(EventSchema).describe("The session's retained events about the tasks of this tree, oldest first"),
  })
  .meta({ id: 'TreeExport' });
export type TreeExportDocument = z.infer<typeof TreeExportDocumentSchema>;

export const EventsQuerySchema = z.strictObject({
  lastEventId: z
    .string()
    .regex(/^(0|\d+-\d+)$/, 'a stream id like 1700000000000-0')
    .optional()
    .describe('Resume after this event id (the Last-Event-ID header wins when both are given).'),
});

export function toPublicTask(task: Task): PublicTask {
  return {
    id: task.id,
    sessionId: task.sessionId,
    parentId: task.parentId,
    rootId: task.rootId,
    mode: task.mode,
    prompt: task.prompt,
    status: task.status,
    result: task.result,
    error: task.error,
    childIds: task.childIds,
    turns: task.turns,
    createdAt: task.createdAt,
    startedAt: task.startedAt,
    finishedAt: task.finishedAt,
    pendingInput: task.pendingInput,
    // Only once the task has a todo list (update_todo_list, or new_task's todos).
    ...(task.todos ? { todos: task.todos } : {}),
    usage: task.usage,
    cost: task.cost,
    // Tree totals and budget: on a root only.
    ...(task.treeUsage ? { treeUsage: task.treeUsage, treeCost: task.treeCost ?? null, budget: task.budget ?? null, onBudget: task.onBudget ?? 'fail' } : {}),
  };
}

export function toPublicTree(tree: TaskTree): PublicTaskTree {
  return { ...toPublicTask(tree), children: tree.children.map(toPublicTree) };
}

export function toPublicSession(session: Session): PublicSession {
  return {
    id: session.id,
    status: session.status,
    activeTaskId: session.activeTaskId,
    queuedTaskIds: session.queuedTaskIds,
    usage: session.usage,
    cost: session.cost,
  };
}

export function toPublicExport(doc: TreeExport): TreeExportDocument {
  return {
    version: doc.version,
    exportedAt: doc.exportedAt,
    root: toPublicTree(doc.root),
    conversations: doc.conversations,
    ...(doc.archivedConversations ? { archivedConversations: doc.archivedConversations } : {}),
    events: doc.events,
  };
}

/** `GET /v1/usage?from=&to=`: UTC days, inclusive; at most MAX_USAGE_DAYS. */
const Day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'a UTC day like 2026-01-31')
  .refine((d) => {
    const ms = Date.parse(`${d}T00:00:00Z`);
    // V8 rolls 2026-02-30 over to March: a real day reads back the same.
    return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 10) === d;
  }, 'not a calendar day');
export const UsageQuerySchema = z
  .strictObject({ from: Day.describe('First UTC day (YYYY-MM-DD)'), to: Day.describe('Last UTC day (YYYY-MM-DD), inclusive') })
  .refine((q) => q.from <= q.to, { message: 'from must not be after to', path: ['from'] })
  .refine((q) => (Date.parse(q.to) - Date.parse(q.from)) / 86_400_000 < MAX_USAGE_DAYS, { message: `at most ${MAX_USAGE_DAYS} days at once`, path: ['to'] });

export const TenantUsageSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    /** Days with usage only. */
    days: z.array(z.object({ day: z.string(), usage: UsageSchema, cost: z.number().nullable() })),
    total: z.object({ usage: UsageSchema, cost: z.number().nullable() }),
  })
  .meta({ id: 'TenantUsage' });
export type TenantUsage = z.infer<typeof TenantUsageSchema>;
