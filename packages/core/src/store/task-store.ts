import type { EngineContext } from '../engine-context';
import { codeToError } from '../errors';
import { isTerminal, type Task, type TaskStatus, type TaskTree } from '../model/task';
import type { Scripts } from '../scripts/scripts';
import type { TransitionArgs } from '../scripts/task-scripts';
import { followClosedTree } from '../lifecycle/task-index';
import { decodeTask, type TaskHash } from './task-record';
import type { TaskStats } from './task-stats';

export type TransitionRequest = TransitionArgs;

/** Reads tasks and applies guarded, fenced status transitions. */
export class TaskStore {
  constructor(
    private readonly ctx: EngineContext,
    private readonly scripts: Scripts,
    private readonly stats: TaskStats,
  ) {}

  async sessionOf(taskId: string): Promise<string | null> {
    return this.ctx.redis.get(this.ctx.keys.taskIndex(taskId));
  }

  async get(sessionId: string, taskId: string): Promise<Task | null> {
    const { keys, redis } = this.ctx;
    const [[, hash], [, children]] = (await redis.multi().hgetall(keys.task(sessionId, taskId)).lrange(keys.children(sessionId, taskId), 0, -1).exec()) as [
      [null, TaskHash],
      [null, string[]],
    ];
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
    const { keys, redis } = this.ctx;
    const terminal = isTerminal(req.to);
    // A terminal transition may close the tree, whose task-index entries then follow (below);
    // the session goes into the reconciler's index first, so a crash in between is repaired.
    const [, reply] = await Promise.all([terminal ? redis.zadd(keys.sessionIndex(), Date.now(), req.sessionId) : undefined, this.scripts.transition(req)]);
    if (reply.kind !== 'ok') {
      const from = reply.kind === 'notFound' || reply.kind === 'lengthMismatch' ? undefined : reply.previous;
      const detail =
        reply.kind === 'lengthMismatch'
          ? `carried messages expected length ${req.carry?.append?.expectedLength ?? '-'}, found ${reply.length}`
          : `from ${from ?? ''}`;
      const err = codeToError(reply.kind, { taskId: req.taskId, what: `transition to ${req.to}`, detail });
      this.ctx.logger.warn({ taskId: req.taskId, sessionId: req.sessionId, to: req.to, from, code: err.code }, err.message);
      throw err;
    }
    // A root that ended handed its session to the next roots: make them jobs.
    if (terminal) this.stats.ended(req.to);
    await this.ctx.addRootJobs(req.sessionId, reply.dispatched);
    if (reply.closedIds.length > 0) await followClosedTree(this.ctx, req.sessionId, reply.closedIds, reply.closedAt);
    return reply.previous;
  }
}
