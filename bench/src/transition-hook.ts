/** The fields of a task transition request that the benchmarks look at. */
export interface TransitionRequestLike {
  sessionId: string;
  taskId: string;
  to: string;
  event?: { type: string; data?: Record<string, unknown> };
}
