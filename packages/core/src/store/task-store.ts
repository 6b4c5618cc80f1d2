import type { EngineContext } from '../engine-context';
import { codeToError, ScriptCode } from '../errors';
import { EventType } from '../model/event';
import { isTerminal, taskMachine, type Task, type TaskStatus, type TaskTree } from '../model/task';
import { followClosedTree } from '../lifecycle/task-index';
import { decodeTask, type TaskHash } from './task-record';
import type { TaskStats } from './task-stats';

export interface TransitionRequest {
  sessionId: string;
  taskId: string;
  to: TaskStatus;
  /** Runner token; omit for a system transition (reconciler, failed job). */
  token?: string;
  fields?: Record<string, string | number>;
  event?: { type: EventType; data?: Record<string, unknown> };
}

/** Reads tasks and applies guarded, fenced status transitions. */
export class TaskStore {
  constructor(
    private readonly ctx: EngineContext,
    private readonly stats: TaskStats,
  ) {}

  async sessionOf(taskId: string): Promise<string | null> {
    return this.ctx.redis.get(this.ctx.keys.taskIndex(taskId));
  }

  async get(sessionId: string, taskId: string): Promise<Task | null> {
    const { keys, redis } = this.ctx;
    const [[, hash], [, children]] = (await redis
      .multi()
      .hgetall(keys.task(sessionId, taskId))
      .lrange(keys.children(sessionId, taskId), 0, -1)
      .exec()) as [[null, TaskHash], [null, string[]]];
    if (!hash.status) return null;
    return decodeTask(hash, children);
  }

  async getById(taskId: string): Promise<Task | null> {
    const sessionId = await this.sessionOf(taskId);
    return sessionId ? this.get(sessionId, taskId) : null;
  }

  async raw(sessionId: string, taskId: string): Promise<TaskHash> {
    return this.ctx.redis.hgetall(this.ctx.keys.task(sessionId, taskId));
  }

  async tree(sessionId: string, taskId: string): Promise<TaskTree | null> {
    const task = await this.get(sessionId, taskId);
    if (!task) return null;
    const children = await Promise.all(task.childIds.map((id) => this.tree(sessionId, id)));
    return { ...task, children: children.filter((c): c is TaskTree => c !== null) };
  }

  /**
   * Applies a transition inside Redis, guarded by the task state machine and
   * the runner fence. Refusals are logged and thrown, never applied. A root
   * reaching a terminal state releases its session lease in the same script.
   */
  async transition(req: TransitionRequest): Promise<TaskStatus> {
    const { keys, options, redis } = this.ctx;
    const terminal = isTerminal(req.to);
    // A terminal transition may close the tree, whose task-index entries then follow (below);
    // the session goes into the reconciler's index first, so a crash in between is repaired.
    const [, reply] = await Promise.all([
      terminal ? redis.zadd(keys.sessionIndex(), Date.now(), req.sessionId) : undefined,
      this.ctx.call(
        'batonTransition',
        [
          keys.task(req.sessionId, req.taskId),
          keys.events(req.sessionId),
          keys.gate(req.sessionId, req.taskId),
          keys.session(req.sessionId),
          keys.lane(req.sessionId),
          keys.active(req.sessionId),
        ],
        [
          req.token ?? '',
          req.to,
          taskMachine.sourcesOf(req.to).join(','),
          JSON.stringify(req.fields ?? {}),
          req.event?.type ?? '',
          JSON.stringify(req.event?.data ?? {}),
          this.ctx.eventsTrim,
          terminal ? options.gateTtlMs : 0,
          req.taskId,
          keys.sessionBase(req.sessionId),
        ],
      ),
    ]);
    const [code, previous, dispatched, closedIds = [], closedAt = 0] = reply as [number, string, string[], string[]?, number?];
    if (code !== ScriptCode.ok) {
      const err = codeToError(code, { taskId: req.taskId, what: `transition to ${req.to}`, detail: `from ${previous}` });
      this.ctx.logger.warn({ taskId: req.taskId, sessionId: req.sessionId, to: req.to, from: previous, code: err.code }, err.message);
      throw err;
    }
    // A root that ended handed its session to the next roots: make them jobs.
    if (terminal) this.stats.ended(req.to);
    await this.ctx.addRootJobs(req.sessionId, dispatched);
    if (closedIds.length > 0) await followClosedTree(this.ctx, req.sessionId, closedIds, closedAt);
    return previous as TaskStatus;
  }
}
