import { EventEmitter } from 'node:events';
import { DelayedError, WaitingChildrenError, Worker, type Job } from 'bullmq';
import { z } from 'zod';
import { openRedis } from '../connection';
import type { JobData } from '../engine-context';
import type { TaskRuntime } from './task-runtime';
import { BatonError, isBatonError } from '../errors';
import { TASK_QUEUE } from '../keys';
import type { Message } from '../model/message';
import type { TaskHash } from '../store/task-record';
import type { CarriedWrites } from '../scripts/task-scripts';
import type { ConversationVersion } from '../model/message';
import { isTerminal, type Task, type TaskError } from '../model/task';
import { CancelListener } from './cancel-listener';
import { AwaitInputSignal, ParkForChildSignal, PauseSignal, TaskFailure, YieldSignal } from './signals';
import { TaskContext } from './task-context';

export type TaskOutcome = { status: 'completed'; result: string } | { status: 'failed'; error: TaskError };

/**
 * A task handler runs a task from its durable state. It may be called many
 * times for one task (after a subtask, a pause, a crash): it must derive
 * where it is from the conversation, and its writes are all fenced.
 */
export type TaskHandler = (ctx: TaskContext) => Promise<TaskOutcome>;

export const JobDataSchema = z.object({ taskId: z.string().min(1), sessionId: z.string().min(1) });

export const TaskWorkerOptionsSchema = z.object({
  /**
   * Jobs this worker runs at once, split evenly over the shards it consumes (rounded up):
   * sessions hash uniformly over the shards, so each shard's queue gets its share, and the
   * process keeps the bound its memory and provider calls were sized for.
   */
  concurrency: z.number().int().min(1).default(16),
  /**
   * The queue shards this worker consumes (WORKER_QUEUE_SHARDS); unset: every shard. A
   * worker pinned to some shards takes only their jobs (a shard's queue and its sessions'
   * subtasks live on one Redis master, so pinning places the worker's load on it).
   */
  shards: z.array(z.number().int().min(0)).min(1).optional(),
  /** BullMQ job lock; a worker blocked longer loses the job (stall). */
  lockDuration: z.number().int().min(500).default(30_000),
  /** Must be the same on every worker: one worker's value throttles all. */
  stalledInterval: z.number().int().min(500).default(30_000),
  maxStalledCount: z.number().int().min(0).default(10),
  /** Parked-for-pause jobs are delayed this long (promoted on resume). */
  parkDelayMs: z
    .number()
    .int()
    .min(1000)
    .default(365 * 24 * 3600_000),
  autorun: z.boolean().default(true),
  /**
   * While it returns true, a root job whose task has not started yet is put
   * back (delayed by `holdRetryMs`) instead of run; subtasks and roots that
   * already started go on. Workers pass "Redis memory is high", so that the
   * memory left goes to finishing the trees already running.
   */
  holdNewRoots: z.custom<() => boolean>((v) => typeof v === 'function', 'a function').optional(),
  holdRetryMs: z.number().int().min(50).default(5000),
  /**
   * AWAITING_INPUT_TIMEOUT_MS: a task waiting for input longer than this fails
   * with INPUT_TIMEOUT. Durable: the parked job's delay ends at the deadline.
   */
  awaitingInputTimeoutMs: z.number().int().min(1).optional(),
});
export type TaskWorkerOptions = z.input<typeof TaskWorkerOptionsSchema>;

/**
 * Runs task jobs: claims the runner fence, runs the handler, turns its
 * signals into BullMQ moves (waiting-children, delayed), records the
 * terminal outcome, and hands the session to the next root when a tree ends.
 */
export interface TaskWorkerEvents {
  /** A runner was fenced out (job re-taken after a stall, or task cancelled): its write was refused. */
  fenced: [taskId: string, error: Error];
  /** A root that had not started was put back for later (`holdNewRoots`). */
  held: [taskId: string];
}

export class TaskWorker extends EventEmitter<TaskWorkerEvents> {
  /** One BullMQ worker per consumed queue shard, in the order of `shards`. */
  readonly workers: readonly Worker<JobData>[];
  /** The queue shards this worker consumes. */
  readonly shards: readonly number[];
  private readonly cancels: CancelListener;
  private readonly options: z.output<typeof TaskWorkerOptionsSchema>;
  private readonly connection: ReturnType<typeof openRedis>;
  private closing = false;
  private closed: Promise<void> | undefined;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    private readonly engine: TaskRuntime,
    private readonly handler: TaskHandler,
    options: TaskWorkerOptions = {},
  ) {
    super();
    this.options = TaskWorkerOptionsSchema.parse(options);
    const { ctx } = engine;
    const count = ctx.queues.count;
    this.shards = this.options.shards ? [...new Set(this.options.shards)].sort((a, b) => a - b) : Array.from({ length: count }, (_, i) => i);
    const outside = this.shards.filter((s) => s >= count);
    if (outside.length > 0) {
      throw new BatonError('INVALID_CONFIG', `worker pinned to queue shard(s) ${outside.join(', ')}, but QUEUE_SHARDS is ${count} (shards 0..${count - 1})`);
    }
    this.cancels = new CancelListener(openRedis(ctx.connection), ctx.keys.cancelChannel());
    this.connection = openRedis(ctx.connection);
    const concurrency = Math.ceil(this.options.concurrency / this.shards.length);
    this.workers = this.shards.map((shard) => {
      const worker = new Worker<JobData>(TASK_QUEUE, (job, token) => this.track(this.process(job, token)), {
        // The command connection is shared; each BullMQ worker opens its own blocking one.
        connection: this.connection,
        prefix: ctx.keys.queuePrefixOf(shard, count),
        concurrency,
        lockDuration: this.options.lockDuration,
        stalledInterval: this.options.stalledInterval,
        maxStalledCount: this.options.maxStalledCount,
        autorun: false,
      });
      worker.on('failed', (job, err) => {
        if (job) void this.onJobFailed(job, err);
      });
      worker.on('error', (err) => ctx.logger.error({ err, shard }, 'worker error'));
      return worker;
    });
    if (this.options.autorun) void this.run();
  }

  /** The BullMQ worker of the first consumed shard (the only one with QUEUE_SHARDS=1). */
  get worker(): Worker<JobData> {
    return this.workers[0]!;
  }

  async run(): Promise<void> {
    await this.cancels.start();
    await Promise.all(this.workers.map((w) => w.run()));
  }

  /** Resolves when the worker is connected and listening for cancellations. */
  async waitUntilReady(): Promise<void> {
    await this.cancels.start();
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
  }

  /** Counts running processors, so `idle()` can wait for them (a force close does not). */
  private track<T>(work: Promise<T>): Promise<T> {
    this.running.add(work);
    const forget = () => this.running.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** Resolves when no processor of this worker is running (e.g. after a force close). */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private async process(job: Job<JobData>, jobToken?: string): Promise<unknown> {
    const { taskId, sessionId } = JobDataSchema.parse(job.data);
    const { ctx } = this.engine;
    const log = ctx.logger.child({ taskId, sessionId, jobId: job.id });
    if (!job.parentKey && this.options.holdNewRoots?.()) {
      // One read, only while holding: a root re-taken after a crash or a yield is `running` and goes on.
      const status = await ctx.redis.hget(ctx.keys.task(sessionId, taskId), 'status');
      if (status === 'queued') {
        await job.moveToDelayed(Date.now() + this.options.holdRetryMs, jobToken);
        this.emit('held', taskId);
        throw new DelayedError();
      }
    }
    const start = await this.engine.scripts.startTask(sessionId, taskId);
    if (start.kind === 'notFound') {
      log.error('job for an unknown task; dropping it');
      return { skipped: 'unknown task' };
    }
    if (start.kind !== 'ok') {
      // Terminal (cancelled while queued or parked, or a duplicate delivery): just make sure the tree ends.
      await this.afterTask(sessionId, taskId);
      return { skipped: start.status };
    }
    const { token } = start;

    const controller = this.cancels.track(taskId);
    try {
      // The first pass uses what the claim returned; a pass after an early child end reads again.
      let claimed:
        { task: Task; messages: Message[]; version: ConversationVersion; lastChild?: { id: string; hash: TaskHash }; treeBudgeted: boolean } | undefined =
        start;
      for (;;) {
        const task = claimed ? claimed.task : await this.engine.tasks.get(sessionId, taskId);
        if (!task) return { skipped: 'vanished' };
        const context = new TaskContext(
          this.engine,
          job,
          task,
          token,
          controller.signal,
          log.child({ token }),
          () => this.closing,
          claimed,
          this.options.awaitingInputTimeoutMs ?? 0,
        );
        claimed = undefined;
        try {
          const outcome = await this.handler(context);
          // Applied: the lease (for a root) moved on in the same script; nothing left to do.
          // The handler's last writes (its answer, the turn's end) ride on the terminal transition.
          if (await this.finish(sessionId, taskId, token, outcome, context.takeCarried())) return { done: true };
          break;
        } catch (err) {
          if (err instanceof ParkForChildSignal) {
            await this.engine.tasks.transition({
              sessionId,
              taskId,
              token,
              to: 'waiting',
              event: { type: 'task.waiting', data: { childId: err.childId } },
              carry: context.takeCarried(),
            });
            if (await job.moveToWaitingChildren(jobToken!)) throw new WaitingChildrenError();
            // The child ended before we parked: carry on in this same job.
            await this.engine.tasks.transition({ sessionId, taskId, token, to: 'running', event: { type: 'task.resumed', data: { from: 'waiting' } } });
            continue;
          }
          if (err instanceof YieldSignal) {
            // Back to the queue at once; the task stays `running` and the next runner re-takes it with a new token.
            await job.moveToDelayed(Date.now(), jobToken);
            throw new DelayedError();
          }
          if (err instanceof PauseSignal) await this.engine.pausing.parkJob(job, jobToken, sessionId, this.options.parkDelayMs);
          if (err instanceof AwaitInputSignal) {
            await ctx.racepoints.beforeInputParkMove?.(taskId);
            await job.moveToDelayed(Date.now() + (err.delayMs ?? this.options.parkDelayMs), jobToken);
            // A delivery (or a cancel) between the park script and the move could not see a delayed job: look again.
            const [status, response] = await ctx.redis.hmget(ctx.keys.task(sessionId, taskId), 'status', `input:${err.toolCallId}`);
            if (status !== 'awaiting_input' || response !== null) await job.promote().catch(() => undefined);
            throw new DelayedError();
          }
          if (isBatonError(err, 'STALE_RUNNER') || controller.signal.aborted) {
            if (isBatonError(err, 'STALE_RUNNER')) this.emit('fenced', taskId, err);
            log.info({ reason: String(err) }, 'runner fenced out or task cancelled; stopping');
            break;
          }
          // A refused subtask (a limit) is final for this task, not an infrastructure error to retry.
          const limit = isBatonError(err, 'MAX_DEPTH_EXCEEDED') || isBatonError(err, 'MAX_CHILDREN_EXCEEDED');
          if (isBatonError(err) && err.code !== 'CONVERSATION_CONFLICT' && !limit) throw err;
          const failure =
            err instanceof TaskFailure || limit
              ? { code: (err as TaskFailure | BatonError).code, message: (err as Error).message }
              : { code: 'TASK_ERROR', message: err instanceof Error ? err.message : String(err) };
          if (await this.finish(sessionId, taskId, token, { status: 'failed', error: failure }, context.takeCarried())) return { done: true };
          break;
        }
      }
    } catch (err) {
      if (err instanceof WaitingChildrenError || err instanceof DelayedError) throw err;
      if (isBatonError(err, 'STALE_RUNNER')) {
        this.emit('fenced', taskId, err);
        return { skipped: 'stale runner' };
      }
      throw err;
    } finally {
      this.cancels.untrack(taskId, controller);
    }
    await this.afterTask(sessionId, taskId);
    return { done: true };
  }

  /** Records the terminal outcome (with the runner's carried writes); false when fenced out (cancelled or re-taken meanwhile). */
  private async finish(sessionId: string, taskId: string, token: string, outcome: TaskOutcome, carry?: CarriedWrites): Promise<boolean> {
    return this.engine.tasks
      .transition(
        outcome.status === 'completed'
          ? {
              sessionId,
              taskId,
              token,
              to: 'completed',
              fields: { result: outcome.result },
              event: { type: 'task.completed', data: { result: outcome.result } },
              carry,
            }
          : {
              sessionId,
              taskId,
              token,
              to: 'failed',
              fields: { errorCode: outcome.error.code, errorMessage: outcome.error.message },
              event: { type: 'task.failed', data: { error: outcome.error } },
              carry,
            },
      )
      .then(
        () => true,
        (err: unknown) => {
          // Fenced out (cancelled or re-taken) between the handler's end and here: the other side wins.
          if (!isBatonError(err, 'STALE_RUNNER')) throw err;
          return false;
        },
      );
  }

  /** When a root task is terminal its tree is over: release the lease, dispatch the next root. */
  private async afterTask(sessionId: string, taskId: string): Promise<void> {
    const raw = await this.engine.tasks.raw(sessionId, taskId);
    if (raw.status && isTerminal(raw.status as never) && !raw.parentId) await this.engine.lanes.finishRoot(sessionId, taskId);
  }

  /** A job failed for good (infrastructure errors past all attempts): fail the task so nothing waits on it. */
  private async onJobFailed(job: Job<JobData>, err: Error): Promise<void> {
    if (job.attemptsMade < (job.opts.attempts ?? 1)) return;
    const parsed = JobDataSchema.safeParse(job.data);
    if (!parsed.success) return;
    const { sessionId, taskId } = parsed.data;
    try {
      // For a root, this transition also releases the session lease.
      await this.engine.tasks.transition({
        sessionId,
        taskId,
        to: 'failed',
        fields: { errorCode: 'JOB_FAILED', errorMessage: err.message },
        event: { type: 'task.failed', data: { error: { code: 'JOB_FAILED', message: err.message } } },
      });
    } catch {
      // Already terminal (e.g. cancelled, whose lease waits for the job to stop): end the tree now.
      await this.afterTask(sessionId, taskId).catch(() => undefined);
    }
  }

  /** Stops taking jobs, waits for running ones, closes connections. `force` skips the wait. */
  close(force = false): Promise<void> {
    this.closing = true;
    this.closed ??= (async () => {
      await Promise.all(this.workers.map((w) => w.close(force)));
      await this.cancels.close();
      this.connection.disconnect();
    })();
    return this.closed;
  }
}
