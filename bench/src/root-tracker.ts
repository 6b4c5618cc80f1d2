/** Resolves when a job id completes on a BullMQ worker (register before or after it happens). */
import type { Worker } from 'bullmq';

export class RootTracker {
  private readonly completed = new Set<string>();
  private readonly waiters = new Map<string, () => void>();

  constructor(worker: Worker) {
    worker.on('completed', (job) => {
      const id = job.id!;
      const wake = this.waiters.get(id);
      if (wake) {
        this.waiters.delete(id);
        wake();
      } else this.completed.add(id);
    });
  }

  done(id: string): Promise<void> {
    if (this.completed.delete(id)) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(id, resolve));
  }

  /** How many completions arrived that nobody waited for yet. */
  get unclaimed(): number {
    return this.completed.size;
  }

  has(id: string): boolean {
    return this.completed.has(id);
  }
}
