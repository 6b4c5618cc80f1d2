import type { EngineContext } from '../engine-context';
import { StaleRunnerError } from '../errors';
import type { GateOutcome } from '../model/event';
import { turnKeyString, type GateBegin, type TurnKey } from '../scripts/gate-scripts';
import type { Scripts } from '../scripts/scripts';
import type { RecordUsageReply, TurnUsage } from '../scripts/usage-scripts';
import type { GateNotifier } from './gate-notifier';

export { turnKeyString, type GateBegin, type TurnKey };

export interface GateRunOptions {
  /** The runner's fence token: the lease dies with the runner's fence. */
  runnerToken?: string;
  /** Aborts waiting and the call (task cancelled, worker closing). */
  signal?: AbortSignal;
  /** Called when this caller holds the lease, before the call (racepoint for tests). */
  onGranted?: (grant: { token: string; grants: number }) => void | Promise<void>;
  /** Called each time this caller finds the turn in flight elsewhere and starts waiting (racepoint). */
  onWaiting?: () => void;
  /**
   * The usage of a response this caller got: counted in the commit's own
   * script (a runner's lease only), reported as `recorded`.
   */
  usageOf?: (response: unknown) => TurnUsage;
}

export interface GateResult<T> {
  outcome: GateOutcome;
  response: T;
  /**
   * For `called`: how many leases this turn has been granted in all. Above 1
   * means an earlier holder lost its lease mid-call (crash, stall): its
   * request may have reached the provider too (at-least-once at a crash boundary).
   */
  grants?: number;
  /** For `called` with `usageOf`: how the commit counted the turn's usage. */
  recorded?: RecordUsageReply;
}

export class LeaseLostError extends Error {
  constructor(key: string) {
    super(`request gate lease for ${key} was lost; the call was aborted`);
  }
}

/**
 * The request gate: a Redis lock plus idempotency key plus fencing token in
 * front of every model request. For one turn key, at most one caller calls;
 * duplicates wait for the committed response; a committed response is read
 * back, never requested again; a caller whose lease was taken cannot commit.
 */
export class RequestGate {
  constructor(
    private readonly ctx: EngineContext,
    private readonly scripts: Scripts,
    private readonly notifier: GateNotifier,
  ) {}

  begin(k: TurnKey, runnerToken = ''): Promise<GateBegin> {
    return this.scripts.gateBegin(k, runnerToken);
  }

  async renew(k: TurnKey, token: string): Promise<boolean> {
    return (await this.scripts.gateRenew(k, token)).kind === 'renewed';
  }

  async commit(k: TurnKey, token: string, response: string): Promise<boolean> {
    return (await this.scripts.gateCommit(k, token, response)).kind === 'committed';
  }

  async abandon(k: TurnKey, token: string): Promise<boolean> {
    return (await this.scripts.gateAbandon(k, token)).kind === 'released';
  }

  /** The committed response of a turn, if any. */
  async committed(k: TurnKey): Promise<string | null> {
    const gate = this.ctx.keys.gate(k.sessionId, k.taskId);
    const [state, response] = await this.ctx.redis.hmget(gate, `${k.turn}:state`, `${k.turn}:response`);
    return state === 'committed' ? (response ?? null) : null;
  }

  /**
   * The whole protocol: replay a committed response, or join a call in flight,
   * or take the lease and call (renewing; aborting the call if the lease is
   * lost) and commit. `call` receives a signal that aborts on cancel or loss.
   */
  async run<T>(k: TurnKey, options: GateRunOptions, call: (signal: AbortSignal) => Promise<T>): Promise<GateResult<T>> {
    const keyString = turnKeyString(k);
    let joined = false;
    for (;;) {
      options.signal?.throwIfAborted();
      const waiter = await this.notifier.register(keyString, options.signal);
      const begun = await this.begin(k, options.runnerToken);
      if (begun.kind !== 'inflight') waiter.cancel();
      switch (begun.kind) {
        case 'committed':
          return { outcome: joined ? 'joined' : 'replayed', response: JSON.parse(begun.response) as T };
        case 'stale':
          throw new StaleRunnerError(k.taskId, `gate begin for ${keyString}`);
        case 'inflight':
          joined = true;
          options.onWaiting?.();
          await waiter.wait(begun.leaseUntil - Date.now() + 5);
          continue;
        case 'granted':
          await options.onGranted?.(begun);
          try {
            const { response, recorded } = await this.callHolding(k, begun.token, options, call);
            return { outcome: 'called', response, grants: begun.grants, ...(recorded ? { recorded } : {}) };
          } catch (err) {
            // Lost the lease while still a current runner (missed renewals): the turn is
            // not done; go round again and join whoever holds it now, or take it back.
            if (err instanceof LeaseLostError && !options.signal?.aborted) continue;
            throw err;
          }
      }
    }
  }

  private async callHolding<T>(
    k: TurnKey,
    token: string,
    options: GateRunOptions,
    call: (signal: AbortSignal) => Promise<T>,
  ): Promise<{ response: T; recorded?: RecordUsageReply }> {
    const controller = new AbortController();
    const onOuterAbort = () => controller.abort(options.signal?.reason);
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const every = Math.max(50, Math.floor(this.ctx.options.gateLeaseMs / 3));
    const renewer = setInterval(() => {
      this.renew(k, token).then(
        (ok) => {
          if (ok) return;
          // Lost (fenced out, or expired and re-granted): abort the request first, then
          // give the lease back at once so a waiting runner calls only after ours is gone.
          controller.abort(new LeaseLostError(turnKeyString(k)));
          void this.abandon(k, token).catch(() => undefined);
        },
        () => undefined, // a failed renew is retried next tick; the lease outlives two misses
      );
    }, every);
    try {
      const response = await call(controller.signal);
      if (controller.signal.aborted) throw controller.signal.reason;
      const commit = await this.scripts.gateCommit(k, token, JSON.stringify(response), options.usageOf?.(response));
      if (commit.kind !== 'committed') throw new StaleRunnerError(k.taskId, `gate commit for ${turnKeyString(k)}`);
      return { response, ...(commit.usage ? { recorded: commit.usage } : {}) };
    } catch (err) {
      await this.abandon(k, token).catch(() => undefined);
      // The call may surface the abort as its own error; report the cause.
      if (controller.signal.reason instanceof LeaseLostError && !options.signal?.aborted) throw controller.signal.reason;
      throw err;
    } finally {
      clearInterval(renewer);
      options.signal?.removeEventListener('abort', onOuterAbort);
    }
  }
}
