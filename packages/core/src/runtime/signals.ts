/**
 * Control-flow signals a task handler throws (through its context) to give
 * its worker slot back; the task worker turns them into BullMQ moves.
 */

/** The task spawned a subtask that is not terminal yet: park in waiting-children. */
export class ParkForChildSignal extends Error {
  constructor(readonly childId: string) {
    super(`parked until subtask ${childId} is terminal`);
  }
}

/** The session is paused: the task parked at a turn boundary (delayed job until resume). */
export class PauseSignal extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} parked: session paused`);
  }
}

/** A task handler's own failure, with a stable code recorded on the task. */
export class TaskFailure extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The worker is shutting down: hand the job back at this turn boundary (another worker resumes it). */
export class YieldSignal extends Error {
  constructor(readonly taskId: string) {
    super(`task ${taskId} yielded: worker closing`);
  }
}

/**
 * A tool call waits for the user (task `awaiting_input`): park as a delayed job
 * for `delayMs` (the rest of the input timeout, or the worker's park delay),
 * woken early when the response is delivered.
 */
export class AwaitInputSignal extends Error {
  constructor(
    readonly taskId: string,
    readonly toolCallId: string,
    /** How long the job may sleep before it must look again (the timeout); undefined: until woken. */
    readonly delayMs: number | undefined,
  ) {
    super(`task ${taskId} parked: awaiting input for tool call ${toolCallId}`);
  }
}
