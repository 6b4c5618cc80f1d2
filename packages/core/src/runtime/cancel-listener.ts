import type { RedisClient as Redis } from '../connection';

/**
 * Turns cancel-channel messages into AbortSignals of the tasks this process
 * runs. The durable record of a cancellation is the task's status (and its
 * new fence); the message only makes the abort immediate.
 */
export class CancelListener {
  private readonly running = new Map<string, AbortController>();
  private ready: Promise<unknown> | undefined;

  constructor(
    private readonly subscriber: Redis,
    private readonly channel: string,
  ) {}

  start(): Promise<unknown> {
    this.ready ??= (async () => {
      this.subscriber.on('message', (channel: string, message: string) => {
        if (channel !== this.channel) return;
        let ids: unknown;
        try {
          ids = JSON.parse(message);
        } catch {
          return;
        }
        if (!Array.isArray(ids)) return;
        for (const id of ids) this.running.get(String(id))?.abort(new Error(`task ${String(id)} cancelled`));
      });
      await this.subscriber.subscribe(this.channel);
    })();
    return this.ready;
  }

  track(taskId: string): AbortController {
    const controller = new AbortController();
    this.running.set(taskId, controller);
    return controller;
  }

  untrack(taskId: string, controller: AbortController): void {
    if (this.running.get(taskId) === controller) this.running.delete(taskId);
  }

  async close(): Promise<void> {
    this.subscriber.disconnect();
  }
}
