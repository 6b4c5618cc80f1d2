/**
 * Script result codes and the typed errors they become. Scripts return
 * integers; `scriptCodeName` (scripts/reply.ts) is the one place that turns
 * them into names, and `codeToError` the one place that turns a refusal into
 * an error. Positive codes are a script's own successes (see its wrapper).
 */
export const ScriptCode = {
  ok: 0,
  notFound: -1,
  staleToken: -2,
  illegalTransition: -3,
  lengthMismatch: -4,
  idempotencyConflict: -5,
  sessionBusy: -6,
  alreadyFinal: -7,
  taskExists: -8,
  notRoot: -9,
  // Limits (a range of their own, clear of the codes above).
  maxDepthExceeded: -20,
  maxChildrenExceeded: -21,
  sessionQueueFull: -22,
  // A submission reached Redis after its caller's deadline (see submit-root-6.lua).
  deadlinePassed: -23,
  // The human in the loop (ask-input-2.lua, deliver-input-3.lua).
  notAwaitingInput: -24,
  inputConflict: -25,
  inputKindMismatch: -26,
  inputTimedOut: -27,
} as const;

export type BatonErrorCode =
  | 'TASK_NOT_FOUND'
  | 'STALE_RUNNER'
  | 'ILLEGAL_TRANSITION'
  | 'CONVERSATION_CONFLICT'
  | 'IDEMPOTENCY_CONFLICT'
  | 'SESSION_BUSY'
  | 'TASK_ALREADY_FINAL'
  | 'INVALID_INPUT'
  | 'INVALID_CONFIG'
  | 'MAX_DEPTH_EXCEEDED'
  | 'MAX_CHILDREN_EXCEEDED'
  | 'SESSION_QUEUE_FULL'
  | 'WORKSPACE_PATH'
  | 'TASK_NOT_AWAITING_INPUT'
  | 'INPUT_CONFLICT'
  | 'INPUT_KIND_MISMATCH';

export class BatonError extends Error {
  constructor(
    readonly code: BatonErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'BatonError';
  }
}

export function isBatonError(e: unknown, code?: BatonErrorCode): e is BatonError {
  return e instanceof BatonError && (code === undefined || e.code === code);
}

/** The runner's fence was superseded: another worker owns the task now, or it was cancelled. */
export class StaleRunnerError extends BatonError {
  constructor(taskId: string, what: string) {
    super('STALE_RUNNER', `task ${taskId}: ${what} refused, this runner was fenced out`, { taskId });
  }
}

export type ScriptCodeName = keyof typeof ScriptCode;

export function codeToError(code: ScriptCodeName, context: { taskId?: string; what: string; detail?: string }): BatonError {
  const id = context.taskId ?? '?';
  switch (ScriptCode[code]) {
    case ScriptCode.notFound:
      return new BatonError('TASK_NOT_FOUND', `task ${id} not found`, { taskId: id });
    case ScriptCode.staleToken:
      return new StaleRunnerError(id, context.what);
    case ScriptCode.illegalTransition:
      return new BatonError('ILLEGAL_TRANSITION', `task ${id}: ${context.what} refused (${context.detail ?? ''})`, {
        taskId: id,
      });
    case ScriptCode.lengthMismatch:
      return new BatonError('CONVERSATION_CONFLICT', `task ${id}: conversation changed (${context.detail ?? ''})`, {
        taskId: id,
      });
    case ScriptCode.idempotencyConflict:
      return new BatonError('IDEMPOTENCY_CONFLICT', `idempotency key already used with a different payload by task ${context.detail ?? ''}`, {
        taskId: context.detail,
      });
    case ScriptCode.sessionBusy:
      return new BatonError('SESSION_BUSY', `session is busy with task ${context.detail ?? ''}`, {
        taskId: context.detail,
      });
    case ScriptCode.alreadyFinal:
      return new BatonError('TASK_ALREADY_FINAL', `task ${id} is already ${context.detail ?? 'final'}`, {
        taskId: id,
        status: context.detail,
      });
    case ScriptCode.taskExists:
      return new BatonError('INVALID_INPUT', `task id ${context.detail ?? id} is already taken`, { taskId: context.detail });
    case ScriptCode.maxDepthExceeded:
      return new BatonError('MAX_DEPTH_EXCEEDED', `task ${id}: ${context.what} refused: subtasks nest at most ${context.detail ?? '?'} levels deep`, {
        taskId: id,
        limit: Number(context.detail),
      });
    case ScriptCode.maxChildrenExceeded:
      return new BatonError('MAX_CHILDREN_EXCEEDED', `task ${id}: ${context.what} refused: a task spawns at most ${context.detail ?? '?'} subtasks`, {
        taskId: id,
        limit: Number(context.detail),
      });
    case ScriptCode.sessionQueueFull:
      return new BatonError('SESSION_QUEUE_FULL', `${context.what} refused: the session already has ${context.detail ?? '?'} queued root tasks`, {
        limit: Number(context.detail),
      });
    default:
      return new BatonError('ILLEGAL_TRANSITION', `${context.what}: unexpected script reply ${code}`);
  }
}
