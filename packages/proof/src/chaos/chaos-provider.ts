/**
 * The chaos run's provider behaviour, on top of the fake provider: random
 * latency and a share of 429/500 answers, with a record of what became of
 * every request (answered with a status, or abandoned by its client) and of
 * which requests are in flight right now, per worker pid.
 */
import { setTimeout as wait } from 'node:timers/promises';
import type { FakePolicy, FakeRequest } from '@baton/testkit';
import { BatonStack } from '../support/baton-stack';

export interface ChaosProviderOptions {
  errorRate: number;
  minLatencyMs: number;
  maxLatencyMs: number;
  random: () => number;
}

export class ChaosProvider {
  /** Final status per request; 'aborted' when the client went away first. */
  readonly outcome = new Map<FakeRequest, number | 'aborted'>();
  readonly inFlight = new Set<FakeRequest>();

  constructor(private readonly options: ChaosProviderOptions) {}

  readonly policy: FakePolicy = async (request) => {
    this.inFlight.add(request);
    const { random, minLatencyMs, maxLatencyMs, errorRate } = this.options;
    const delay = minLatencyMs + Math.floor(random() * (maxLatencyMs - minLatencyMs + 1));
    const roll = random();
    // The latency, cut short when the client goes (then looked at below).
    await wait(delay, undefined, { signal: request.signal }).catch(() => undefined);
    this.inFlight.delete(request);
    if (request.signal.aborted) {
      this.outcome.set(request, 'aborted');
      return 'hang'; // the client is gone: nothing to send
    }
    const status = roll < errorRate / 2 ? 429 : roll < errorRate ? 500 : 200;
    this.outcome.set(request, status);
    if (status === 200) return undefined;
    const headers: Record<string, string> = status === 429 ? { 'retry-after': '0' } : {};
    return { status, headers };
  };

  /** Requests in flight right now from the worker process `pid`. */
  inFlightFrom(pid: number): number {
    return [...this.inFlight].filter((r) => BatonStack.pidOfUserAgent(r.headers['user-agent']) === pid).length;
  }
}
