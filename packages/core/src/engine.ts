import { checkQueueShards, type QueueShardsCheck } from './queue-shard-guard';
import type { Logger } from 'pino';
import type { EngineOptions } from './config';
import { openRedis, type Connection } from './connection';
import { Cancellation, type CancelResult } from './control/cancellation';
import { Pausing } from './control/pausing';
import { EngineContext } from './engine-context';
import { GateNotifier } from './gate/gate-notifier';
import { RequestGate } from './gate/request-gate';
import { SessionLanes, type SubmitOptions, type SubmitResult } from './lanes/session-lanes';
import { Deletion, type DeleteSessionState, type DeleteTreeResult } from './lifecycle/deletion';
import { deliverInput, type DeliverInputRequest, type DeliverInputResult } from './input/input-delivery';
import { exportTree, type TreeExport } from './lifecycle/tree-export';
import type { SubmitInput } from './lanes/submission';
import type { BatonEvent } from './model/event';
import type { Message } from './model/message';
import type { Session } from './model/session';
import type { Task, TaskTree } from './model/task';
import type { CancelledTask } from './scripts/reply';
import { Scripts } from './scripts/scripts';
import { ConversationStore } from './store/conversation-store';
import { EventLog } from './store/event-log';
import { TaskStats } from './store/task-stats';
import { TaskStore } from './store/task-store';

export type { CancelResult };

/**
 * The engine facade used by the API and the worker: submit, cancel,
 * pause/resume, and reads. It owns one command connection and the task
 * queue; a gate subscriber is opened on first use of the request gate.
 *
 * It builds its parts here, each given exactly the collaborators it uses
 * (constructor injection): the parts never reach back into the engine.
 */
export class Engine {
  readonly ctx: EngineContext;
  readonly scripts: Scripts;
  readonly tasks: TaskStore;
  readonly lanes: SessionLanes;
  readonly conversations: ConversationStore;
  readonly events: EventLog;
  readonly stats: TaskStats;
  readonly cancellation: Cancellation;
  readonly pausing: Pausing;
  readonly deletion: Deletion;
  private gateInstance: RequestGate | undefined;
  private notifier: GateNotifier | undefined;

  constructor(connection: Connection, options: EngineOptions = {}, logger?: Logger) {
    const ctx = (this.ctx = new EngineContext(connection, options, logger));
    this.scripts = new Scripts(ctx.redis, ctx.keys, ctx.options);
    this.stats = new TaskStats(ctx);
    this.tasks = new TaskStore(ctx, this.scripts, this.stats);
    this.lanes = new SessionLanes(ctx, this.scripts, this.tasks, this.stats);
    this.conversations = new ConversationStore(ctx, this.scripts);
    this.events = new EventLog(ctx);
    this.cancellation = new Cancellation(ctx, this.scripts, this.tasks, this.lanes, this.stats);
    this.pausing = new Pausing(ctx, this.scripts, this.lanes);
    this.deletion = new Deletion(ctx, this.scripts, this.tasks, this.cancellation, this.stats);
  }

  get keys() {
    return this.ctx.keys;
  }
  /** The queue of shard 0: the only one with QUEUE_SHARDS=1 (tests, tooling); a session's jobs are in `queueFor(sessionId)`. */
  get queue() {
    return this.ctx.queues.queues[0]!;
  }
  /**
   * Checks this process's QUEUE_SHARDS against the deployment's (stored in Redis by the first
   * process): throws INVALID_CONFIG if it differs while work is queued (see queue-shard-guard.ts).
   */
  checkQueueShards(): Promise<QueueShardsCheck> {
    return checkQueueShards(this.ctx);
  }
  /** The task queue of a session's shard. */
  queueFor(sessionId: string) {
    return this.ctx.queues.forSession(sessionId);
  }
  get redis() {
    return this.ctx.redis;
  }
  get logger() {
    return this.ctx.logger;
  }

  /** The request gate (opens the notification subscriber once). */
  get gate(): RequestGate {
    if (!this.gateInstance) {
      this.notifier = new GateNotifier(openRedis(this.ctx.connection), this.ctx.keys.gateChannel());
      this.gateInstance = new RequestGate(this.ctx, this.scripts, this.notifier);
    }
    return this.gateInstance;
  }

  /** Submits a root task; with `onBusy: interrupt`, also delivers the cancellations it made (aborts, lease). */
  async submit(input: SubmitInput, options: SubmitOptions = {}): Promise<SubmitResult> {
    // The lanes count a created root and the roots it interrupted (before the job add, in its write).
    const result = await this.lanes.submit(input, options);
    await this.cancellation.deliverAfterSubmit(result.task.sessionId, result.cancelled, result.task.id);
    return result;
  }

  getTask(taskId: string): Promise<Task | null> {
    return this.tasks.getById(taskId);
  }

  async getTree(taskId: string): Promise<TaskTree | null> {
    const sessionId = await this.tasks.sessionOf(taskId);
    return sessionId ? this.tasks.tree(sessionId, taskId) : null;
  }

  async getMessages(taskId: string): Promise<Message[] | null> {
    const sessionId = await this.tasks.sessionOf(taskId);
    if (!sessionId || !(await this.tasks.get(sessionId, taskId))) return null;
    return this.conversations.read(sessionId, taskId);
  }

  async getSession(sessionId: string): Promise<Session & { tenant: string | null }> {
    return this.lanes.session(sessionId);
  }

  readEvents(sessionId: string, after = '0', count = 1000): Promise<BatonEvent[]> {
    return this.events.read(sessionId, after, count);
  }

  /** Cancels a task and all its descendants (see Cancellation). Idempotent. */
  cancel(taskId: string, reason = 'cancelled by request'): Promise<CancelResult> {
    return this.cancellation.cancel(taskId, reason);
  }

  /** Delivers the effects of cancellations made by a script (see Cancellation.deliver). */
  afterCancel(sessionId: string, cancelled: CancelledTask[]): Promise<void> {
    return this.cancellation.deliver(sessionId, cancelled);
  }

  /**
   * Deletes a session: cancels every tree that is not over (as `cancel`
   * does), then every key of the session, its trees, task-index entries and
   * BullMQ jobs. 'stopping' while a runner still holds a task of it: call
   * again later (the reconciler also finishes it); submits to it are refused
   * meanwhile. 'not_found' when nothing of it exists. Idempotent.
   */
  deleteSession(sessionId: string): Promise<{ state: DeleteSessionState }> {
    return this.deletion.deleteSession(sessionId);
  }

  /** Deletes a terminal root's whole tree; refused while any task of it is not terminal, and on a subtask. */
  deleteTree(taskId: string): Promise<DeleteTreeResult> {
    return this.deletion.deleteTree(taskId);
  }

  /** The tree under `taskId` (root or subtask) with its conversations and events; null when not found. */
  exportTree(taskId: string): Promise<TreeExport | null> {
    return exportTree({ tasks: this.tasks, conversations: this.conversations, events: this.events }, taskId);
  }

  /**
   * Delivers a user's response (answer, approval, denial) to a task
   * `awaiting_input` and wakes its parked job. See input/input-delivery.ts.
   */
  deliverInput(req: DeliverInputRequest): Promise<DeliverInputResult> {
    return deliverInput(this, req);
  }

  /** Pauses a session (see Pausing). */
  async pause(sessionId: string): Promise<Session> {
    await this.pausing.pause(sessionId);
    return this.getSession(sessionId);
  }

  async resume(sessionId: string): Promise<Session> {
    await this.pausing.resume(sessionId);
    return this.getSession(sessionId);
  }

  /** Wakes parked (delayed) jobs; a job that is not delayed any more is left alone. */
  async promoteParked(sessionId: string, taskIds: string[]): Promise<void> {
    await this.pausing.promoteParked(sessionId, taskIds);
  }

  async close(): Promise<void> {
    await this.notifier?.close();
    await this.ctx.close();
  }
}
