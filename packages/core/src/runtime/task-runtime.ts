import type { RedisClient } from '../connection';
import type { Pausing } from '../control/pausing';
import type { EngineContext } from '../engine-context';
import type { RequestGate } from '../gate/request-gate';
import type { SessionLanes } from '../lanes/session-lanes';
import type { Scripts } from '../scripts/scripts';
import type { ConversationStore } from '../store/conversation-store';
import type { TaskStats } from '../store/task-stats';
import type { TaskStore } from '../store/task-store';

/**
 * The collaborators that running tasks use, each by name: the task worker,
 * every TaskContext and, through it, the handlers and tools. The Engine
 * builds them (constructor injection) and is one of these; a runner never
 * reaches for anything else of it (no submit, no delete, no reads for the
 * API), so what a handler can touch is exactly this list.
 */
export interface TaskRuntime {
  /** Connection, key schema, options, queues, logger and test racepoints. */
  readonly ctx: EngineContext;
  /** The command connection (the same as `ctx.redis`). */
  readonly redis: RedisClient;
  /** Every Lua script, typed (fenced writes of a runner go through them). */
  readonly scripts: Scripts;
  readonly tasks: TaskStore;
  readonly conversations: ConversationStore;
  /** The session lease, handed on when a root ends. */
  readonly lanes: SessionLanes;
  readonly pausing: Pausing;
  readonly stats: TaskStats;
  /** The request gate in front of every model request. */
  readonly gate: RequestGate;
}
