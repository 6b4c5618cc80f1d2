/**
 * Process entry: the testkit's fake provider (real HTTP, answering at once
 * with its scripted orchestrator) in its own process, so its CPU does not
 * share the event loop of the workers being measured. Talks over IPC:
 * `{id, cmd: 'stats' | 'reset'}` -> `{id, result}`; exits on disconnect.
 */
import { startFakeProvider } from '@baton/testkit';

export interface FakeStatsSummary {
  total: number;
  keys: number;
  /** Keys that received more than one request. */
  keysRepeated: number;
  /** Requests beyond the first, summed over keys. */
  repeatedRequests: number;
  maxInFlightPerSession: number;
  sessions: number;
  statuses: Record<string, number>;
}

async function main(): Promise<void> {
  const latencyMs = Number(process.env.FAKE_LATENCY_MS ?? 0);
  const fake = await startFakeProvider({ latencyMs });
  // The fake records every request for tests; a benchmark only needs the counters.
  fake.setOnRequest(() => {
    if (fake.requests.length > 256) fake.requests.length = 0;
  });
  const summary = (): FakeStatsSummary => {
    const counts = Object.values(fake.stats.requestsByKey);
    return {
      total: fake.stats.total,
      keys: counts.length,
      keysRepeated: counts.filter((n) => n > 1).length,
      repeatedRequests: counts.reduce((a, n) => a + Math.max(0, n - 1), 0),
      maxInFlightPerSession: fake.maxInFlightPerSession(),
      sessions: Object.keys(fake.stats.maxInFlightBySession).length,
      statuses: { ...fake.stats.statuses },
    };
  };
  process.on('message', (msg: { id: number; cmd: string }) => {
    if (msg.cmd === 'stats') process.send?.({ id: msg.id, result: summary() });
    else if (msg.cmd === 'reset') {
      fake.reset();
      fake.stats.maxInFlightBySession = {};
      process.send?.({ id: msg.id, result: null });
    }
  });
  process.on('disconnect', () => void fake.close().then(() => process.exit(0)));
  process.send?.({ ready: true, url: fake.url });
}

void main();
