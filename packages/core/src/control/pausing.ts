import { DelayedError, type Job } from 'bullmq';
import type { EngineContext } from '../engine-context';
import { codeToError } from '../errors';
import type { SessionLanes } from '../lanes/session-lanes';
import type { Scripts } from '../scripts/scripts';
import type { CarriedWrites } from '../scripts/task-scripts';

/**
 * Pause and resume, in one place. Pausing a session stops dispatch (roots
 * wait in the lane) and makes every running task park at its next turn
 * boundary: the turn-boundary script sets it `paused` and adds it to the
 * session's parked set atomically with reading the session status, and its
 * worker moves the job to delayed (far in the future). Resuming dispatches
 * the lane heads and promotes the parked jobs. A resume that slips between
 * the park script and the job move is caught by `parkJob` looking again;
 * anything else left delayed is promoted by the reconciler (`promoteParkedOf`).
 */
export class Pausing {
  constructor(
    private readonly ctx: EngineContext,
    private readonly scripts: Scripts,
    private readonly lanes: SessionLanes,
  ) {}

  /** Pauses a session. Idempotent. */
  async pause(sessionId: string): Promise<void> {
    const { dispatched } = await this.scripts.setPaused(sessionId, true);
    await this.ctx.addRootJobs(sessionId, dispatched);
  }

  /** Resumes a session: dispatches lane heads and wakes its parked jobs. Idempotent. */
  async resume(sessionId: string): Promise<void> {
    await this.lanes.touch(sessionId);
    const { dispatched, parked } = await this.scripts.setPaused(sessionId, false);
    await this.ctx.addRootJobs(sessionId, dispatched);
    await this.promoteParked(sessionId, parked);
  }

  /**
   * A running task's turn boundary: true when its session is paused and the
   * task parked now (its handler stops with PauseSignal). Otherwise records
   * `turn.started` for `turn`, if given. The runner's carried writes go
   * first, in the same script. Throws STALE_RUNNER when fenced out,
   * CONVERSATION_CONFLICT when the carried messages do not fit.
   */
  async parkAtTurnBoundary(sessionId: string, taskId: string, token: string, turn?: number, carry?: CarriedWrites): Promise<boolean> {
    const reply = await this.scripts.turnBoundary(sessionId, taskId, token, turn, carry);
    switch (reply.kind) {
      case 'parked':
        return true;
      case 'carryOn':
        return false;
      case 'staleToken':
        throw codeToError('staleToken', { taskId, what: 'turn boundary' });
      case 'notRunning':
        throw codeToError('illegalTransition', { taskId, what: 'turn boundary' });
      case 'lengthMismatch':
        throw codeToError('lengthMismatch', {
          taskId,
          what: 'turn boundary',
          detail: `carried messages expected length ${carry?.append?.expectedLength ?? '-'}, found ${reply.length}`,
        });
    }
  }

  /**
   * Moves a parked task's job to delayed until a resume promotes it. Always
   * throws DelayedError (what BullMQ expects from a processor that moved its job).
   */
  async parkJob(job: Job, jobToken: string | undefined, sessionId: string, delayMs: number): Promise<never> {
    await job.moveToDelayed(Date.now() + delayMs, jobToken);
    // A resume that ran between the park script and the move could not see a delayed job: look again.
    const status = await this.ctx.redis.hget(this.ctx.keys.session(sessionId), 'status');
    if (status !== 'paused') await job.promote().catch(() => undefined);
    throw new DelayedError();
  }

  /** Wakes parked (delayed) jobs; a job that is not delayed any more is left alone. Returns how many it promoted. */
  async promoteParked(sessionId: string, taskIds: string[]): Promise<number> {
    const queue = this.ctx.queues.forSession(sessionId);
    let promoted = 0;
    for (const id of taskIds) {
      const job = await queue.getJob(id);
      if (job && (await job.isDelayed())) {
        await job.promote().catch(() => undefined);
        promoted++;
      }
    }
    return promoted;
  }

  /** The reconciler's repair: the parked jobs of a session that is not paused (a lost promote). */
  async promoteParkedOf(sessionId: string): Promise<number> {
    return this.promoteParked(sessionId, await this.ctx.redis.smembers(this.ctx.keys.parked(sessionId)));
  }
}
