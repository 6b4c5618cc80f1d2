import { z } from 'zod';
import { PendingInputSchema } from './pending-input';
import { BudgetSchema, EMPTY_USAGE, OnBudgetSchema, UsageSchema } from './usage';
import { StateMachine } from './state-machine';

/**
 * Task states.
 * - queued:    created; a root waits in its session lane or a dispatched job waits for a worker.
 * - running:   a worker runs the task's agent loop (holds the runner fence).
 * - waiting:   parked in BullMQ waiting-children until its subtask is terminal.
 * - paused:    its session was paused; parked at a turn boundary (delayed job).
 * - awaiting_input: a tool call asked the user (a question, an approval); parked
 *              as a delayed job until the response is delivered (or the wait times out).
 * - completed, failed, cancelled: terminal; never left again.
 */
export const TaskStatus = {
  queued: 'queued',
  running: 'running',
  waiting: 'waiting',
  paused: 'paused',
  awaiting_input: 'awaiting_input',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];
export const TASK_STATUSES = Object.values(TaskStatus) as [TaskStatus, ...TaskStatus[]];
export const TaskStatusSchema = z.enum(TASK_STATUSES);

export const TERMINAL_STATUSES: readonly TaskStatus[] = ['completed', 'failed', 'cancelled'];
export function isTerminal(status: TaskStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export const taskMachine = new StateMachine<TaskStatus>('task', {
  queued: ['running', 'cancelled', 'failed'],
  // running -> running: a stalled job re-taken by another worker (new runner fence).
  running: ['running', 'waiting', 'paused', 'awaiting_input', 'completed', 'failed', 'cancelled'],
  waiting: ['running', 'cancelled', 'failed'],
  paused: ['running', 'cancelled', 'failed'],
  awaiting_input: ['running', 'cancelled', 'failed'],
  completed: [],
  failed: [],
  cancelled: [],
});

export const IdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9._-]+$/, 'ids are 1 to 128 of A-Z a-z 0-9 . _ -');

export const TaskErrorSchema = z.object({ code: z.string(), message: z.string() });
export type TaskError = z.infer<typeof TaskErrorSchema>;

/** One item of a task's todo list (update_todo_list). */
export const TodoItemSchema = z.object({ text: z.string(), status: z.enum(['pending', 'in_progress', 'completed']) });
export type TodoItem = z.infer<typeof TodoItemSchema>;

export const TaskSchema = z.object({
  id: IdSchema,
  sessionId: IdSchema,
  parentId: IdSchema.nullable(),
  rootId: IdSchema,
  tenant: z.string(),
  mode: z.string(),
  prompt: z.string(),
  status: TaskStatusSchema,
  result: z.string().nullable(),
  error: TaskErrorSchema.nullable(),
  childIds: z.array(z.string()),
  turns: z.number().int().nonnegative(),
  metadata: z.unknown().nullable(),
  createdAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
  /** What the task waits for while `awaiting_input` (null once the response arrived, and otherwise). */
  pendingInput: PendingInputSchema.nullable().default(null),
  /** The task's todo list, once it has one (absent before). */
  todos: z.array(TodoItemSchema).optional(),
  /** Tokens of this task's own committed turns. */
  usage: UsageSchema.default(EMPTY_USAGE),
  /** USD of this task's priced turns; null when every turn was of an unpriced model. */
  cost: z.number().nonnegative().nullable().default(0),
  /** On a root: the whole tree's usage, cost, budget (null: none) and what happens over budget. */
  treeUsage: UsageSchema.optional(),
  treeCost: z.number().nonnegative().nullable().optional(),
  budget: BudgetSchema.nullable().optional(),
  onBudget: OnBudgetSchema.optional(),
});
export type Task = z.infer<typeof TaskSchema>;

/** The terminal outcome of a subtask, as delivered to its parent. */
export type ChildOutcome =
  { status: 'completed'; taskId: string; result: string } | { status: 'failed'; taskId: string; error: TaskError } | { status: 'cancelled'; taskId: string };

export interface TaskTree extends Task {
  children: TaskTree[];
}

/** A task with its subtasks, recursively (what `getTree` returns). */
export const TaskTreeSchema: z.ZodType<TaskTree> = TaskSchema.extend({
  children: z.lazy(() => z.array(TaskTreeSchema)),
});
