/** Public API of @baton/client: the typed HTTP client, its schemas and errors. */
export { BatonClient, type BatonClientOptions, type SubmitInput, type SubmitResult, type CallOptions, type InputOptions, type ApprovalOptions } from './baton-client';
export { BatonApiError, BatonConnectionError, BatonProtocolError, SessionQueueFullError, isBatonApiError } from './errors';
export { type SessionEvent, type EventStreamOptions } from './event-stream';
export { SseParser, type SseMessage } from './sse-parser';
export { StreamResetSchema, isResetEvent, type StreamReset } from './event-stream';
export {
  TaskSchema,
  TaskTreeSchema,
  TaskStatusSchema,
  TaskErrorSchema,
  SessionSchema,
  MessageSchema,
  MessagesResponseSchema,
  TreeExportSchema,
  BatonEventSchema,
  SessionDeletionSchema,
  ProblemSchema,
  OnBusySchema,
  IdSchema,
  TASK_STATUSES,
  FINAL_STATUSES,
  ON_BUSY,
  isFinal,
  type Task,
  type TaskTree,
  type TaskStatus,
  type TaskError,
  type Session,
  type Message,
  type Problem,
  type OnBusy,
  type TreeExport,
  type BatonEvent,
  type SessionDeletion,
  type SessionDeletionState,
  PendingInputSchema,
  type PendingInput,
} from './schemas';
export {
  FilesUploadedSchema,
  FileListingSchema,
  FileInfoSchema,
  type FileEntryInput,
  type FilesUploaded,
  type FileListing,
  type FileInfo,
  type FileContent,
} from './file-schemas';
