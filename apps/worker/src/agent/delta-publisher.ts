import type { TaskRuntime, TurnKey } from '@baton/core';
import type { Logger } from 'pino';
import type { ModelDelta } from '../providers/model-provider';

/** The timer functions the publisher uses (injected by tests to control time; no sleeps). */
export interface DeltaTimers {
  set(fn: () => void, ms: number): unknown;
  clear(handle: unknown): void;
}

const REAL_TIMERS: DeltaTimers = {
  set: (fn, ms) => setTimeout(fn, ms),
  clear: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface DeltaPublisherOptions {
  /** DELTA_FLUSH_MS: deltas arriving within this window go out as one event. */
  flushMs: number;
  /** DELTA_MAX_EVENTS_PER_TURN: past half of it flushes are 4x rarer, and the last one is kept for the turn's end. */
  maxEventsPerTurn: number;
  timers?: DeltaTimers;
  /** Awaited before each event is sent (racepoint for tests). */
  beforeSend?: (seq: number) => Promise<void>;
}

/** A tool-call piece as it goes out: `arguments` is the text appended since the previous event. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  name?: string;
  arguments?: string;
}

/**
 * The data of a `message.delta` event. `grant` is the turn's gate grant
 * (a worker that takes the turn over after a lease loss has a higher one)
 * and `attempt` the provider's attempt within it: a client shows the
 * highest (grant, attempt) it has seen and drops deltas of lower ones.
 * `seq` increases by one per event of this publisher.
 */
export interface MessageDeltaData {
  turn: number;
  grant: number;
  attempt: number;
  seq: number;
  text?: string;
  toolCalls?: ToolCallDelta[];
}

/** What accumulates between two flushes: one attempt's text and tool-call pieces, in arrival order. */
class Pending {
  text = '';
  readonly calls = new Map<number, ToolCallDelta>();

  constructor(readonly attempt: number) {}

  get empty(): boolean {
    return this.text === '' && this.calls.size === 0;
  }

  add(delta: ModelDelta): void {
    if (delta.text) this.text += delta.text;
    for (const piece of delta.toolCalls ?? []) {
      const call = this.calls.get(piece.index) ?? { index: piece.index };
      if (piece.id !== undefined) call.id = piece.id;
      if (piece.name !== undefined) call.name = piece.name;
      if (piece.arguments) call.arguments = (call.arguments ?? '') + piece.arguments;
      this.calls.set(piece.index, call);
    }
  }
}

/**
 * The live view of one turn's streamed response: receives the provider's
 * deltas (ModelCallContext.onDelta), coalesces them for `flushMs`, and
 * appends each batch as one `message.delta` event to the session's stream,
 * through emit-delta-3, which refuses once this worker no longer holds the
 * turn's gate lease (so a zombie shows nothing of a turn another worker runs).
 *
 * - Flushes are serialized on one promise chain and each takes the buffer
 *   when it runs, not when it was scheduled: never two in flight, order
 *   kept, and a slow Redis just makes the batches bigger.
 * - `finish()` (awaited by the call before it returns its response, so
 *   before the gate commits) sends what is left: a reader sees the deltas,
 *   then `turn.completed`.
 * - `close()` (after the turn, committed or not) deletes the events this
 *   publisher wrote: the stream keeps durable history only, and a reader
 *   replaying later sees the committed turn, not its pieces.
 * - It never fails the turn: deltas are a live view, the committed message is
 *   the truth, so a Redis error is logged and the batch dropped, and a lost
 *   lease silences the publisher until the next grant.
 */
export class DeltaPublisher {
  private readonly timers: DeltaTimers;
  private pending: Pending | null = null;
  private token: string | null = null;
  private grant = 0;
  private attempt = 0;
  private seq = 0;
  private timer: unknown = null;
  private chain: Promise<void> = Promise.resolve();
  private closed = false;
  /** Stream ids of the events written, deleted by close(). */
  private readonly ids: string[] = [];

  constructor(
    private readonly engine: Pick<TaskRuntime, 'scripts' | 'redis' | 'ctx'>,
    private readonly key: TurnKey & { turn: number },
    private readonly options: DeltaPublisherOptions,
    private readonly log: Logger,
  ) {
    this.timers = options.timers ?? REAL_TIMERS;
  }

  /** Events sent (or attempted) so far this turn. */
  get events(): number {
    return this.seq;
  }

  /** This worker holds the turn's gate lease (RequestGate onGranted): deltas from now on are of this grant. */
  granted(grant: { token: string; grants: number }): void {
    this.token = grant.token;
    this.grant = grant.grants;
    this.attempt = 0;
    this.pending = null; // pieces of an earlier grant's call, which was aborted
  }

  /** One piece from the provider (in order). Never throws. */
  push(delta: ModelDelta): void {
    if (this.closed || this.token === null || delta.attempt < this.attempt) return;
    if (delta.attempt > this.attempt) {
      // A retried stream starts over: what is buffered of the abandoned attempt is dropped unsent
      // (clients would drop it anyway), the next event tells them about the new attempt.
      this.attempt = delta.attempt;
      this.pending = null;
    }
    (this.pending ??= new Pending(delta.attempt)).add(delta);
    this.schedule();
  }

  /** Sends what is buffered and waits for every send: call before the turn commits. Never throws. */
  finish(): Promise<void> {
    this.cancelTimer();
    return this.flush(true);
  }

  /**
   * After the turn (committed, failed or aborted): stops, waits for the send
   * in flight, and deletes this turn's delta events with one XDEL.
   *
   * Not fenced: the ids are exactly the entries this publisher appended (all
   * `message.delta`, nothing durable), and they are obsolete whoever holds
   * the turn now: deleting them can only hide a live view that has ended.
   * Best effort: a failed XDEL leaves them to the stream's cap and age trim.
   */
  async close(): Promise<void> {
    this.closed = true;
    this.cancelTimer();
    this.pending = null;
    await this.chain;
    if (this.ids.length === 0) return;
    const ids = this.ids.splice(0);
    try {
      await this.engine.redis.xdel(this.engine.ctx.keys.events(this.key.sessionId), ...ids);
    } catch (err) {
      this.log.warn({ err, deltas: ids.length }, 'could not delete the turn’s delta events; the stream trim will');
    }
  }

  /** Resolves once every send queued so far is done (tests). */
  settled(): Promise<void> {
    return this.chain;
  }

  /**
   * The flush interval now: `flushMs`, 4x that past half the per-turn cap,
   * and none (wait for finish) when one event is left, so a long answer is
   * coalesced into bigger events instead of losing text.
   */
  private interval(): number | null {
    const max = this.options.maxEventsPerTurn;
    if (this.seq >= max - 1) return null;
    return this.seq >= max / 2 ? this.options.flushMs * 4 : this.options.flushMs;
  }

  private schedule(): void {
    if (this.timer !== null || this.closed) return;
    const ms = this.interval();
    if (ms === null) return;
    this.timer = this.timers.set(() => {
      this.timer = null;
      void this.flush(false);
    }, ms);
  }

  private cancelTimer(): void {
    if (this.timer === null) return;
    this.timers.clear(this.timer);
    this.timer = null;
  }

  private flush(final: boolean): Promise<void> {
    this.chain = this.chain.then(() => this.send(final));
    return this.chain;
  }

  /** `final`: the turn's last send, which may use the event kept for it. */
  private async send(final: boolean): Promise<void> {
    const batch = this.pending;
    const token = this.token;
    const limit = final ? this.options.maxEventsPerTurn : this.options.maxEventsPerTurn - 1;
    if (!batch || batch.empty || token === null || this.closed || this.seq >= limit) return;
    this.pending = null;
    const data: MessageDeltaData = { turn: this.key.turn, grant: this.grant, attempt: batch.attempt, seq: ++this.seq };
    if (batch.text) data.text = batch.text;
    if (batch.calls.size) data.toolCalls = [...batch.calls.values()];
    try {
      await this.options.beforeSend?.(data.seq);
      const reply = await this.engine.scripts.emitDelta(this.key, token, JSON.stringify(data));
      if (reply.kind === 'emitted') this.ids.push(reply.id);
      else if (this.token === token) {
        // Fenced out: this grant's call is being aborted; nothing more of it is shown.
        this.log.debug({ seq: data.seq }, 'delta refused: the turn’s gate lease is no longer ours');
        this.token = null;
        this.pending = null;
      }
    } catch (err) {
      this.log.warn({ err, seq: data.seq }, 'could not publish a delta; dropped (the committed message is the truth)');
    }
    // Pieces that arrived during the send wait for the next tick.
    if (this.hasPending()) this.schedule();
  }

  private hasPending(): boolean {
    return this.pending !== null && !this.pending.empty;
  }
}
