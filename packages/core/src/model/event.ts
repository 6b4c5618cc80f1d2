import { z } from 'zod';

/** Engine events, appended to the session's stream inside the script that made the change. */
export const EventType = {
  taskCreated: 'task.created',
  taskStarted: 'task.started',
  taskWaiting: 'task.waiting',
  taskResumed: 'task.resumed',
  taskPaused: 'task.paused',
  taskCompleted: 'task.completed',
  taskFailed: 'task.failed',
  taskCancelled: 'task.cancelled',
  taskInputRequired: 'task.input_required',
  taskInputReceived: 'task.input_received',
  turnStarted: 'turn.started',
  turnCompleted: 'turn.completed',
  /** A tool call with side effects (group edit, command, mcp) is about to run; data {turn, callId, tool}. */
  toolStarted: 'tool.started',
  sessionPaused: 'session.paused',
  sessionResumed: 'session.resumed',
  /** A task's mode changed (switch_mode): data {from, to, reason}. */
  taskModeSwitched: 'task.mode_switched',
  /** A task's todo list was replaced (update_todo_list, or new_task's todos): data {todos}. */
  taskTodosUpdated: 'task.todos_updated',
  /**
   * A live piece of a streamed model response (LLM_STREAM), before the turn commits:
   * data {turn, grant, attempt, seq, text?, toolCalls?}. Never durable: the worker deletes a
   * turn's deltas once the turn ends, so a reader replaying later sees turn.completed only.
   */
  messageDelta: 'message.delta',
} as const;
export type EventType = (typeof EventType)[keyof typeof EventType];
export const EventTypeSchema = z.enum(Object.values(EventType) as [EventType, ...EventType[]]);

/** How a turn's model request was satisfied by the request gate. */
export const GateOutcomeSchema = z.enum(['called', 'replayed', 'joined']);
export type GateOutcome = z.infer<typeof GateOutcomeSchema>;

export const EventSchema = z.object({
  /** Redis stream id: monotonic per session; doubles as the SSE id. */
  id: z.string(),
  type: EventTypeSchema,
  sessionId: z.string(),
  taskId: z.string().nullable(),
  at: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type BatonEvent = z.infer<typeof EventSchema>;
