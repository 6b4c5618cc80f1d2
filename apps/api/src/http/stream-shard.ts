import { decodeEvent, type BatonEvent, type Engine } from '@baton/core';
import { setTimeout as wait } from 'node:timers/promises';
import type { Logger } from 'pino';
import { compareIds } from './stream-id';
import type { ReadReply, StreamReader } from './stream-readers';

/** One open event stream, as the hub sees it. */
export interface Subscriber {
  readonly sessionId: string;
  /** Id of the last event the subscriber has (it gets only later ones). */
  readonly after: string;
  /**
   * The next events after `after`, in stream order. `more`: the read was a
   * full page, so the hub is behind this session and events may be trimmed
   * before it reads them; the subscriber should leave and catch up on its own.
   */
  deliver(events: BatonEvent[], more: boolean): void;
}

/** The subscribers of one session stream and the position up to which the shard has read it. */
interface Group {
  readonly key: string;
  readonly sessionId: string;
  cursor: string;
  readonly subscribers: Set<Subscriber>;
}

const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;

/**
 * One reading loop of the event hub: reads every stream of its groups with
 * one reader and fans the entries out, in order, to each group's subscribers.
 *
 * Joining. A read in progress names the streams and positions it started
 * with. A subscriber whose stream is not in it, or who needs entries before
 * the group's position, must wait for the next read, so joining ends the
 * current read early (`wake`). `wanted` counts such joins and `served` is the
 * count the current read started with: the wake loop interrupts until the read
 * in progress has served every join, retrying while the interrupt finds no read
 * waiting (the command may still be on its way to Redis).
 *
 * Delivery keeps each subscriber's events contiguous: a read returns the
 * entries after the position it started from, so only subscribers at or after
 * that position get them (a subscriber who joined further back during the
 * read gets them from the next read, which starts at its position).
 */
export class StreamShard {
  private readonly groups = new Map<string, Group>();
  private wanted = 0;
  private served = 0;
  private reading: Promise<unknown> | null = null;
  private waking = false;
  private closed = false;
  private idle: (() => void) | null = null;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly reader: StreamReader,
    private readonly count: number,
    private readonly logger: Logger,
  ) {}

  get subscriptions(): number {
    let n = 0;
    for (const group of this.groups.values()) n += group.subscribers.size;
    return n;
  }

  get streams(): number {
    return this.groups.size;
  }

  get connections(): number {
    return this.reader.connections;
  }

  join(subscriber: Subscriber): void {
    if (this.closed) return;
    const key = this.engine.keys.events(subscriber.sessionId);
    let group = this.groups.get(key);
    let wake = false;
    if (!group) {
      group = { key, sessionId: subscriber.sessionId, cursor: subscriber.after, subscribers: new Set() };
      this.groups.set(key, group);
      wake = true;
    } else if (compareIds(subscriber.after, group.cursor) < 0) {
      group.cursor = subscriber.after;
      wake = true;
    }
    group.subscribers.add(subscriber);
    if (wake) this.wanted++;
    this.loop ??= this.run();
    if (wake) this.wake();
  }

  /** No wake: the read in progress may still name the stream; what it returns for it is dropped. */
  leave(subscriber: Subscriber): void {
    const key = this.engine.keys.events(subscriber.sessionId);
    const group = this.groups.get(key);
    if (!group?.subscribers.delete(subscriber)) return;
    if (group.subscribers.size === 0) this.groups.delete(key);
  }

  async close(): Promise<void> {
    if (this.closed) return this.loop ?? undefined;
    this.closed = true;
    this.groups.clear();
    this.idle?.();
    this.reader.close();
    await this.loop;
  }

  private wake(): void {
    if (!this.reading) {
      this.idle?.();
      return; // between reads: the next one starts with the change
    }
    if (this.waking) return;
    this.waking = true;
    void (async () => {
      let delayMs = 1;
      try {
        while (!this.closed && this.reading && this.served < this.wanted) {
          const current = this.reading;
          if (await this.reader.interrupt().catch(() => false)) {
            await current.catch(() => undefined);
            delayMs = 1;
          } else {
            await wait(delayMs);
            delayMs = Math.min(delayMs * 2, 50);
          }
        }
      } finally {
        this.waking = false;
      }
    })();
  }

  private async run(): Promise<void> {
    let retryMs = RETRY_MIN_MS;
    while (!this.closed) {
      if (this.groups.size === 0) {
        await new Promise<void>((resolve) => (this.idle = resolve));
        this.idle = null;
        continue;
      }
      const started = new Map<Group, string>();
      for (const group of this.groups.values()) started.set(group, group.cursor);
      this.served = this.wanted;
      let reply: ReadReply | null;
      try {
        const reading = this.reader.read(
          [...started.keys()].map((g) => g.key),
          [...started.values()],
          this.count,
        );
        this.reading = reading;
        reply = await reading;
        retryMs = RETRY_MIN_MS;
      } catch (err) {
        if (this.closed) break;
        this.logger.warn({ err, retryMs }, 'event hub: reading session streams failed; retrying');
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, retryMs);
          // close() must not wait out the backoff (a joining stream ends it early too).
          this.idle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.idle = null;
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
        continue;
      } finally {
        this.reading = null;
      }
      if (reply && !this.closed) this.dispatch(reply, started);
    }
  }

  private dispatch(reply: ReadReply, started: Map<Group, string>): void {
    for (const [key, entries] of reply) {
      const group = this.groups.get(key);
      const from = group && started.get(group);
      // A group created during the read (all left, then one joined) was not read from its position.
      if (!group || from === undefined || entries.length === 0) continue;
      const events = entries.map((e) => decodeEvent(group.sessionId, e));
      const last = events[events.length - 1]!.id;
      // Unless a joiner moved the group back during the read, it has now read up to `last`.
      if (group.cursor === from) group.cursor = last;
      const more = entries.length >= this.count;
      for (const subscriber of [...group.subscribers]) {
        if (compareIds(subscriber.after, from) < 0) continue;
        let i = 0;
        while (i < events.length && compareIds(events[i]!.id, subscriber.after) <= 0) i++;
        if (i < events.length || more) subscriber.deliver(i === 0 ? events : events.slice(i), more);
      }
    }
  }
}
