import type { EngineContext } from '../engine-context';
import type { Scripts } from '../scripts/scripts';
import { BatonError } from '../errors';
import { encodeResponse, InputResponseSchema, type InputResponse } from '../model/pending-input';
import type { Task } from '../model/task';

export interface DeliverInputRequest {
  taskId: string;
  response: InputResponse;
  /** Same key and same response: the same result again (`replayed`); same key, another response: INPUT_CONFLICT. */
  idempotencyKey?: string;
}

export interface DeliverInputResult {
  /** The task after the delivery (still `awaiting_input` until a worker takes it, `pendingInput` null). */
  task: Task;
  /** The tool call the response went to. */
  toolCallId: string;
  /** True when this exact response had already been delivered (by key or by value). */
  replayed: boolean;
}

/**
 * Delivers a user's response to a task `awaiting_input` (deliver-input-3.lua),
 * then wakes its parked job. If the worker has parked the task but not yet
 * moved its job to delayed, the promote here finds no delayed job: the
 * worker looks again after its move (as it does for a pause), and the task
 * sits in the parked set, which a resume and the reconciler also promote.
 */
/** What delivering needs of the engine (the Engine is one; no import of it, so no cycle). */
export interface DeliveringEngine {
  readonly ctx: EngineContext;
  readonly scripts: Pick<Scripts, 'deliverInput'>;
  readonly tasks: { sessionOf(taskId: string): Promise<string | null>; get(sessionId: string, taskId: string): Promise<Task | null> };
  promoteParked(sessionId: string, taskIds: string[]): Promise<void>;
}

export async function deliverInput(engine: DeliveringEngine, req: DeliverInputRequest): Promise<DeliverInputResult> {
  const response = InputResponseSchema.parse(req.response);
  const sessionId = await engine.tasks.sessionOf(req.taskId);
  if (!sessionId) throw new BatonError('TASK_NOT_FOUND', `task ${req.taskId} not found`, { taskId: req.taskId });
  // Into the reconciler's index with the script: it promotes the parked job if this caller dies before doing so.
  const [, reply] = await Promise.all([
    engine.ctx.redis.zadd(engine.ctx.keys.sessionIndex(), Date.now(), sessionId),
    engine.scripts.deliverInput({ sessionId, taskId: req.taskId, kind: response.kind, response: encodeResponse(response), idempotencyKey: req.idempotencyKey }),
  ]);
  const taskId = req.taskId;
  switch (reply.kind) {
    case 'stored':
    case 'replayed':
      break;
    case 'notFound':
      throw new BatonError('TASK_NOT_FOUND', `task ${taskId} not found`, { taskId });
    case 'notAwaitingInput':
      throw new BatonError('TASK_NOT_AWAITING_INPUT', `task ${taskId} is not awaiting input (it is ${reply.status})`, { taskId, status: reply.status });
    case 'conflict':
      throw new BatonError(
        'INPUT_CONFLICT',
        `task ${taskId} already received another response for tool call ${reply.toolCallId}` +
          (req.idempotencyKey ? ' (or this Idempotency-Key was used with another response)' : ''),
        { taskId, toolCallId: reply.toolCallId },
      );
    case 'kindMismatch':
      throw new BatonError(
        'INPUT_KIND_MISMATCH',
        reply.requestKind === 'question'
          ? `task ${taskId} asks a question: send {"answer": "..."}, not an approval`
          : `task ${taskId} asks to approve a tool call: send {"approved": true|false, "feedback"?: "..."}, not an answer`,
        { taskId, expected: reply.requestKind === 'question' ? 'answer' : 'approval' },
      );
  }
  // A replay promotes too: the first delivery's caller may have died before it did.
  await engine.promoteParked(sessionId, [taskId]);
  const task = await engine.tasks.get(sessionId, taskId);
  if (!task) throw new BatonError('TASK_NOT_FOUND', `task ${taskId} not found`, { taskId });
  return { task, toolCallId: reply.toolCallId, replayed: reply.kind === 'replayed' };
}
