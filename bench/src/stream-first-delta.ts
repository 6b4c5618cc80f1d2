/**
 * Time to the first streamed delta against time to the whole answer, for
 * both provider clients, against the fake provider with a first-byte latency
 * and a pause between frames (a model producing tokens). Not part of
 * `pnpm bench`: a quick check of what streaming buys a watcher.
 *
 *   pnpm --filter @baton/bench build && node bench/dist/stream-first-delta.js [latencyMs=200] [frameGapMs=50]
 */
import { startFakeProvider } from '@baton/testkit';
import { AnthropicProvider, OpenAiProvider, type ModelProvider } from '@baton/worker';
import pino from 'pino';

const RUNS = 7;

async function main(): Promise<void> {
  const latencyMs = Number(process.argv[2] ?? 200);
  const chunkDelayMs = Number(process.argv[3] ?? 50);
  const fake = await startFakeProvider({ latencyMs, chunkDelayMs });
  const logger = pino({ level: 'silent' });
  const request = { model: 'm', messages: [{ role: 'user' as const, content: 'a prompt of some length '.repeat(20) }], tools: [] };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!.toFixed(0);
  for (const kind of ['openai', 'anthropic'] as const) {
    const common = { baseUrl: fake.url, timeoutMs: 10_000, maxAttempts: 1, backoff: { baseMs: 1, maxMs: 1 }, stream: true };
    const provider: ModelProvider & { close(): void } = kind === 'openai' ? new OpenAiProvider(common) : new AnthropicProvider({ ...common, maxTokens: 1024 });
    const first: number[] = [];
    const whole: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const started = performance.now();
      let firstAt: number | undefined;
      await provider.complete(request, {
        signal: new AbortController().signal,
        idempotencyKey: `${kind}:${i}`,
        sessionId: 's',
        logger,
        onDelta: () => (firstAt ??= performance.now() - started),
      });
      whole.push(performance.now() - started);
      first.push(firstAt ?? Number.NaN);
    }
    provider.close();
    console.log(
      `${kind}: first delta ${median(first)} ms, whole answer ${median(whole)} ms (median of ${RUNS}; latency ${latencyMs} ms, ${chunkDelayMs} ms between frames)`,
    );
  }
  await fake.close();
}

void main();
