import type { Engine } from './engine';

/** What the reconciler works with: the engine's parts it repairs through (an Engine has them all). */
export type ReconcilerParts = Pick<Engine, 'ctx' | 'scripts' | 'redis' | 'tasks' | 'lanes' | 'pausing' | 'deletion'>;
import { followTaskIndex } from './lifecycle/task-index';
import { drainRollups } from './usage/rollups';
import { isTerminal, type TaskStatus } from './model/task';
import type { LockKeys } from './scripts/lock-scripts';

export interface ReconcileReport {
  sessions: number;
  /** Dispatched roots whose BullMQ job was missing (crash between the lane script and the add). */
  redispatched: number;
  /** Leases held by roots that no longer run (terminal task, or job ended without finishing it). */
  releasedLeases: number;
  /** Parked tasks of running sessions whose delayed job was not promoted. */
  promoted: number;
  /** Sessions dropped from the index (idle, empty). */
  forgotten: number;
  /** Sessions whose deletion (left 'stopping') this pass finished. */
  deletedSessions: number;
  /** Task-index entries made to follow their task's expiry or deletion (after a crash in between). */
  followedIndexEntries: number;
  /** Usage roll-ups left pending by a crash, applied to the tenant and model totals. */
  rolledUp: number;
  /** Finished BullMQ jobs older than the retention, removed. */
  removedJobs: number;
}

/** The reconciler's lock as one pass holds it: the fencing token lock-acquire gave it. */
export interface HeldLock {
  keys: LockKeys;
  token: string;
}

/** The pass's lock expired and another process took it: this pass stops where it is. */
export class ReconcilerLockLostError extends Error {
  constructor() {
    super('reconciler lock lost (the pass outlived its lease and another process took it)');
    this.name = 'ReconcilerLockLostError';
  }
}

/** Finished jobs removed per set and pass: bounds the pass; the next one goes on. */
const JOB_SWEEP_LIMIT = 1000;

export interface ReconcilerOptions {
  /** A root dispatched more recently than this is left alone (its add is probably in flight). */
  graceMs?: number;
  /** Lock so that one worker at a time reconciles. */
  lockMs?: number;
  /** Called with the report of every periodic pass (metrics). */
  onReport?: (report: ReconcileReport) => void;
}

/**
 * Repairs the crash windows the scripts cannot close on their own, because
 * a Redis script and a BullMQ add are two steps: a dispatch lost between
 * them, a lease left by a tree that no longer runs, a parked job left
 * delayed after a resume. Run periodically by workers; safe to run anywhere,
 * any number of times (every repair is idempotent).
 */
export class Reconciler {
  private readonly graceMs: number;
  private readonly lockMs: number;
  private readonly onReport: ((report: ReconcileReport) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly engine: ReconcilerParts,
    options: ReconcilerOptions = {},
  ) {
    this.graceMs = options.graceMs ?? 2000;
    this.lockMs = options.lockMs ?? 30_000;
    this.onReport = options.onReport;
  }

  /**
   * One pass over the sessions index; returns what it repaired. With `lock`
   * (a periodic pass), every session's repairs and the job sweep start only
   * after renewing the lock with its fencing token: once the lock was lost,
   * no further write of this pass happens (ReconcilerLockLostError), so two
   * passes never repair at once past one session. Without it (tests,
   * tooling) the pass runs unguarded; every repair is idempotent anyway.
   */
  async reconcile(lock?: HeldLock): Promise<ReconcileReport> {
    const { redis, keys } = this.engine.ctx;
    const report: ReconcileReport = {
      sessions: 0,
      redispatched: 0,
      releasedLeases: 0,
      promoted: 0,
      forgotten: 0,
      deletedSessions: 0,
      followedIndexEntries: 0,
      rolledUp: 0,
      removedJobs: 0,
    };
    let cursor = '0';
    do {
      const [next, flat] = await redis.zscan(keys.sessionIndex(), cursor, 'COUNT', 200);
      cursor = next;
      for (let i = 0; i + 1 < flat.length; i += 2) {
        report.sessions++;
        if (lock) await this.holdLock(lock);
        await this.reconcileSession(flat[i]!, flat[i + 1]!, report);
      }
    } while (cursor !== '0');
    if (lock) await this.holdLock(lock);
    report.removedJobs = await this.sweepJobs();
    if (report.redispatched + report.releasedLeases + report.promoted > 0) {
      this.engine.ctx.logger.warn({ report }, 'reconciler repaired state');
    }
    return report;
  }

  /** Renews the lock with this pass's token, or throws when another holder has it. */
  private async holdLock(lock: HeldLock): Promise<void> {
    const renewed = await this.engine.scripts.lockRenew(lock.keys, lock.token, this.lockMs);
    if (renewed.kind === 'lost') throw new ReconcilerLockLostError();
  }

  /**
   * Removes finished jobs older than the retention. BullMQ does so itself when
   * a later job finishes; on a quiet queue none does. Bounded per pass.
   */
  private async sweepJobs(): Promise<number> {
    const { queues, options } = this.engine.ctx;
    if (options.retentionMs <= 0) return 0;
    let swept = 0;
    for (const queue of queues.queues) {
      const completed = await queue.clean(options.retentionMs, JOB_SWEEP_LIMIT, 'completed');
      const failed = await queue.clean(options.retentionMs, JOB_SWEEP_LIMIT, 'failed');
      swept += completed.length + failed.length;
    }
    return swept;
  }

  private async reconcileSession(sessionId: string, score: string, report: ReconcileReport): Promise<void> {
    const { engine } = this;
    const { keys, options } = engine.ctx;
    // A deletion that answered 'stopping': finish it once its runners have stopped. Until
    // then the repairs below still run (a lease left by a lost job must be released for the
    // deletion to finish), but the session stays in the index.
    const deleting = (await engine.ctx.redis.hexists(keys.session(sessionId), 'deleting')) === 1;
    if (deleting && (await engine.deletion.deleteSession(sessionId)).state !== 'stopping') {
      report.deletedSessions++;
      return;
    }
    report.followedIndexEntries += await followTaskIndex(engine.ctx, sessionId);
    // Usage roll-ups a crash left between a turn's record and its roll-up (usage/rollups).
    report.rolledUp += await drainRollups(engine, sessionId);
    if (options.eventsMaxAgeMs > 0) {
      // Emits trim by age too; this covers a stream that nothing writes to any more.
      await engine.ctx.redis.xtrim(keys.events(sessionId), 'MINID', '~', String(Date.now() - options.eventsMaxAgeMs));
    }
    const session = await engine.lanes.session(sessionId);
    // The session's shard: a missing root job is re-added there (addRootJobs), where its subtasks' flow lives.
    const queue = engine.ctx.queues.forSession(sessionId);
    for (const rootId of session.activeTaskIds) {
      const raw = await engine.tasks.raw(sessionId, rootId);
      const job = await queue.getJob(rootId);
      const state = job ? await job.getState() : 'missing';
      if (!raw.status || isTerminal(raw.status as TaskStatus)) {
        if (state !== 'active') {
          await engine.lanes.finishRoot(sessionId, rootId);
          report.releasedLeases++;
        }
        continue;
      }
      if (state === 'missing' && Date.now() - Number(raw.dispatchedAt || 0) >= this.graceMs) {
        await engine.ctx.addRootJobs(sessionId, [rootId]);
        report.redispatched++;
      } else if (state === 'failed' || state === 'completed') {
        // The terminal transition of a root releases its lease in the same script; only if
        // it was refused (terminal meanwhile) is the lease released here.
        await engine.tasks
          .transition({
            sessionId,
            taskId: rootId,
            to: 'failed',
            fields: { errorCode: 'JOB_FAILED', errorMessage: job?.failedReason || `job ${state} without finishing the task` },
            event: { type: 'task.failed', data: { reason: 'reconciler' } },
          })
          .catch(() => engine.lanes.finishRoot(sessionId, rootId));
        report.releasedLeases++;
      }
    }
    if (session.status !== 'paused') {
      // Lost handoff: room in the session but the lane head was never dispatched.
      if (session.queuedTaskIds.length > 0) await engine.lanes.dispatch(sessionId);
      report.promoted += await engine.pausing.promoteParkedOf(sessionId);
    }
    const after = await engine.lanes.session(sessionId);
    if (!deleting && after.status === 'idle' && after.activeTaskIds.length === 0 && after.queuedTaskIds.length === 0) {
      const forgotten = await engine.scripts.forgetSession(sessionId, score);
      if (forgotten.kind === 'removed') report.forgotten++;
    }
  }

  /**
   * Runs `reconcile` every `intervalMs` under a cross-process fenced lock:
   * taken with a fresh token, renewed (with it) before each session, and
   * released only by its holder, so a pass that outlived its lease neither
   * goes on nor deletes the lock of the process that took it over.
   */
  start(intervalMs: number): void {
    const tick = async () => {
      const lock = await this.acquire();
      if (!lock) return;
      try {
        this.onReport?.(await this.reconcile(lock));
      } catch (err) {
        if (!(err instanceof ReconcilerLockLostError)) throw err;
        this.engine.ctx.logger.warn({ err }, 'reconciler pass stopped: its lock was taken over');
      } finally {
        await this.engine.scripts.lockRelease(lock.keys, lock.token);
      }
    };
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = tick()
        .catch((err: unknown) => this.engine.ctx.logger.error({ err }, 'reconciler pass failed'))
        .finally(() => (this.running = undefined));
    }, intervalMs);
    this.timer.unref();
  }

  /** Takes the reconciler's lock; null while another process holds it. */
  async acquire(): Promise<HeldLock | null> {
    const keys = this.engine.ctx.keys.reconcilerLock();
    const got = await this.engine.scripts.lockAcquire(keys, this.lockMs);
    return got.kind === 'acquired' ? { keys, token: got.token } : null;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
