/** Public API of @baton/core: the engine, its model, and the runtime for workers. */
export { Engine, type CancelResult } from './engine';
export { TreeExportSchema, type TreeExport } from './lifecycle/tree-export';
export type { DeleteSessionState, DeleteTreeResult } from './lifecycle/deletion';
export { EngineOptionsSchema, MAX_DEPTH_CAP, MAX_QUEUE_SHARDS, type EngineOptions, type ResolvedEngineOptions } from './config';
export { openRedis, connectionFromUrl, type FailFastOptions, type Connection, type ClusterConnection, type RedisClient } from './connection';
export type { JobData } from './queue-shards';
export { Keys, TASK_QUEUE } from './keys';
export { QueueShards, shardOfSession } from './queue-shards';
export { LateCommandError, redisFailure, RedisFailureKind, type RedisFailure } from './redis-failure';
export { beforeDeadline, DeadlineExceededError } from './answer-deadline';
export { RedisMemoryMonitor, parseMemoryInfo, type RedisMemoryReading, type RedisMemoryMonitorOptions, type RedisMemoryMonitorEvents } from './redis-memory';
export { registerRedisMemoryMetrics } from './redis-memory-metrics';
export { BatonError, StaleRunnerError, isBatonError, type BatonErrorCode } from './errors';
export { StateMachine, IllegalTransitionError, type TransitionTable } from './model/state-machine';
export {
  TaskStatus,
  TaskStatusSchema,
  TASK_STATUSES,
  TERMINAL_STATUSES,
  TaskSchema,
  TaskErrorSchema,
  TaskTreeSchema,
  IdSchema,
  isTerminal,
  taskMachine,
  type Task,
  type TaskError,
  type TaskTree,
  type ChildOutcome,
} from './model/task';
export { SessionStatus, SessionStatusSchema, SessionSchema, type Session } from './model/session';
export {
  MessageSchema,
  ToolCallSchema,
  AssistantMessageSchema,
  conversationProblems,
  type Message,
  type AssistantMessage,
  type ToolCall,
} from './model/message';
export { EventSchema, EventType, EventTypeSchema, GateOutcomeSchema, type BatonEvent, type GateOutcome } from './model/event';
export { decodeEvent } from './store/event-log';
export { SubmitInputSchema, OnBusySchema, newTaskId, submitDeadlineMs, type SubmitInput, type OnBusy } from './lanes/submission';
export type { SubmitOptions, SubmitResult } from './lanes/session-lanes';
export type { TaskTotals } from './store/task-stats';
export { RequestGate, LeaseLostError, turnKeyString, type TurnKey, type GateBegin, type GateResult, type GateRunOptions } from './gate/request-gate';
export { TaskWorker, TaskWorkerOptionsSchema, JobDataSchema, type TaskHandler, type TaskOutcome, type TaskWorkerOptions } from './runtime/task-worker';
export { TaskContext, type SubtaskSpec } from './runtime/task-context';
export type { TaskRuntime } from './runtime/task-runtime';
export { childTaskId, MAX_TASK_ID_LENGTH, SUBTASK_KEY_PATTERN, SUBTASK_KEY_MAX_LENGTH } from './runtime/child-id';
export { TaskFailure, ParkForChildSignal, PauseSignal, YieldSignal, AwaitInputSignal } from './runtime/signals';
export { Reconciler, ReconcilerLockLostError, type HeldLock, type ReconcileReport, type ReconcilerOptions } from './reconciler';
export { loggerOptions, scrubSecrets, REDACT_PATHS, REDACTED } from './logging';
export { Workspace } from './workspace/workspace';
export { PriceTable, ModelPriceSchema, PricesFileSchema, parsePricesFile, loadPrices, type ModelPrice, type TokenUsage } from './usage/prices';
export { Scripts } from './scripts/scripts';
export { ArchivedConversationSchema, type ArchivedConversation, type ConversationVersion } from './store/conversation-store';
export { UnexpectedReplyError, type CancelledTask } from './scripts/reply';
export type { LimiterAcquireReply, LimiterRecordArgs, LimiterRecordReply } from './scripts/limiter-scripts';
export type { EmitDeltaReply } from './scripts/delta-scripts';
export { Cancellation } from './control/cancellation';
export { Pausing } from './control/pausing';
export {
  InputRequestSchema,
  InputResponseSchema,
  PendingInputSchema,
  QuestionRequestSchema,
  ApprovalRequestSchema,
  AnswerResponseSchema,
  ApprovalResponseSchema,
  encodeResponse,
  responseKindFor,
  type InputRequest,
  type InputResponse,
  type PendingInput,
} from './model/pending-input';
export type { DeliverInputRequest, DeliverInputResult } from './input/input-delivery';
export { TodoItemSchema, type TodoItem } from './model/task';
export {
  publishModeCatalog,
  readModeCatalog,
  ModeCatalogCache,
  ModeCatalogSchema,
  MAX_CATALOG_MODES,
  type ModeCatalog,
  type ModeCatalogEntry,
  type ModeCheck,
} from './modes/mode-catalog';
export {
  UsageSchema,
  BudgetSchema,
  OnBudgetSchema,
  EMPTY_USAGE,
  usageOf,
  costOf,
  budgetOf,
  budgetFields,
  type Usage,
  type Budget,
  type OnBudget,
} from './model/usage';
export {
  utcDay,
  CONTINUE_OVER_BUDGET,
  DEFAULT_TENANT_USAGE_TTL_S,
  DEFAULT_RESERVATION_LIFETIME_MS,
  type UsageConfig,
  type TurnMetering,
} from './usage/turn-metering';
export { applyRollup, drainRollups, RollupSchema, ROLLUP_MARKER_TTL_S, rollupMarkerTtlS, type Rollup, type AppliedRollup } from './usage/rollups';
export type { BudgetLimits, BudgetScope, BudgetName, TurnTokens, Reservation } from './scripts/usage-scripts';
export { UsageReader, daysBetween, MAX_USAGE_DAYS, type DayUsage, type ModelUsage } from './usage/usage-reader';
export { ModelTable, modelTableFileSchema } from './usage/model-table';
