import { setTimeout as delay } from 'node:timers/promises';
import type { RedisClient as Redis } from '../connection';

/**
 * Wakes callers waiting on a turn key when its holder commits or abandons.
 * One subscriber connection per process, one channel for all keys; waiters
 * are registered *before* they look at the gate so no wake-up is missed.
 */
export class GateNotifier {
  private readonly waiters = new Map<string, Set<() => void>>();
  private ready: Promise<unknown> | undefined;

  constructor(
    private readonly subscriber: Redis,
    private readonly channel: string,
  ) {}

  private start(): Promise<unknown> {
    this.ready ??= (async () => {
      this.subscriber.on('message', (channel: string, key: string) => {
        if (channel !== this.channel) return;
        for (const wake of this.waiters.get(key) ?? []) wake();
      });
      await this.subscriber.subscribe(this.channel);
    })();
    return this.ready;
  }

  /**
   * Registers a waiter for `key`; `wait(ms)` resolves on a notification,
   * after `ms` (the holder's lease may simply expire), or on abort.
   */
  async register(key: string, signal?: AbortSignal): Promise<{ wait(ms: number): Promise<void>; cancel(): void }> {
    await this.start();
    let wake!: () => void;
    const woken = new Promise<void>((resolve) => (wake = resolve));
    const set = this.waiters.get(key) ?? new Set();
    set.add(wake);
    this.waiters.set(key, set);
    const cancel = () => {
      set.delete(wake);
      if (set.size === 0 && this.waiters.get(key) === set) this.waiters.delete(key);
    };
    return {
      cancel,
      wait: async (ms: number) => {
        // Ends at the wake-up, the timeout or the caller's abort, whichever comes first.
        const done = new AbortController();
        const stop = signal ? AbortSignal.any([signal, done.signal]) : done.signal;
        try {
          await Promise.race([woken, delay(Math.max(1, ms), undefined, { signal: stop }).catch(() => undefined)]);
        } finally {
          done.abort();
          cancel();
        }
      },
    };
  }

  async close(): Promise<void> {
    this.waiters.clear();
    this.subscriber.disconnect();
  }
}
