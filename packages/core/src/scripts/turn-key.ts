/** One model request of a task through the request gate. */
export interface TurnKey {
  sessionId: string;
  taskId: string;
  /** A turn number, or another request of the task through the gate (`condense:<n>`, see the worker's agent/condense). */
  turn: number | string;
}

/** The idempotency key of a turn, forwarded to the provider as `Idempotency-Key`. */
export function turnKeyString(k: TurnKey): string {
  return `${k.taskId}:${k.turn}`;
}
