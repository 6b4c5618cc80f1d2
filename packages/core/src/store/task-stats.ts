import type { EngineContext } from '../engine-context';
import { statsField } from '../keys';
import { TERMINAL_STATUSES, type TaskStatus } from '../model/task';

/** Totals since the prefix was first used: tasks created (roots, children) and tasks ended, by terminal status (each present). */
export interface TaskTotals {
  created: { root: number; child: number };
  ended: Partial<Record<TaskStatus, number>>;
}

/**
 * Totals kept as work happens, in one small hash (`keys.stats()`), so that a
 * metrics scrape reads one key whatever the number of tasks and sessions.
 *
 * Counted by the engine after the script that made the change succeeded (the
 * hash is outside the session's hash slot, so on a cluster no script can
 * update both): a process killed between the two loses that one count. The
 * totals never go down when data expires or is deleted.
 *
 * Counting is sent, not awaited: these are metrics, so they must not add a
 * round trip to submit, spawn or a transition. A later command on the same
 * connection (and any read of the hash, which lives on one node) sees the
 * count; a count Redis refused is logged and lost.
 */
export class TaskStats {
  constructor(private readonly ctx: EngineContext) {}

  created(kind: 'root' | 'child'): void {
    this.add(statsField.created(kind), 1);
  }

  ended(status: TaskStatus, count = 1): void {
    if (count > 0) this.add(statsField.ended(status), count);
  }

  private add(field: string, n: number): void {
    this.ctx.redis.hincrby(this.ctx.keys.stats(), field, n).catch((err: unknown) => {
      this.ctx.logger.debug({ err, field }, 'a task count was lost');
    });
  }

  /** One HGETALL. */
  async read(): Promise<TaskTotals> {
    const hash = await this.ctx.redis.hgetall(this.ctx.keys.stats());
    const n = (field: string) => Number(hash[field] ?? 0);
    const ended = Object.fromEntries(TERMINAL_STATUSES.map((s) => [s, n(statsField.ended(s))]));
    return { created: { root: n(statsField.created('root')), child: n(statsField.created('child')) }, ended };
  }
}
