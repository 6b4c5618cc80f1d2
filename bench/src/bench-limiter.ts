/**
 * The shared provider limiter (LLM_SHARED_LIMITER): a fake provider that
 * allows R requests per window and answers 429 (retry-after, x-ratelimit-*)
 * beyond; 4 in-process workers; one single-turn task in each of 200
 * sessions. Run once with each worker backing off alone and once with the
 * limiter in Redis they share. Same figures as the worker's proof test
 * (apps/worker/src/providers/shared-limiter.int.test.ts).
 */
import { Engine } from '@baton/core';
import { cleanupPrefix, rateLimitedPolicy, startFakeProvider, testPrefix } from '@baton/testkit';
import type { WorkerApp } from '@baton/worker';
import pino from 'pino';
import { startBatonWorker } from './baton-worker';
import type { RemoteFakeProvider } from './fake-provider-client';
import type { BenchOptions } from './options';
import { verdict, type BenchReport } from './report';

const WORKERS = 4;
const SESSIONS = 200;
const R = 20;
const WINDOW_MS = 500;

interface Side {
  rejected: number;
  seconds: number;
  completed: number;
}

async function side(o: BenchOptions, shared: boolean): Promise<Side> {
  const limited = rateLimitedPolicy({ requests: R, windowMs: WINDOW_MS });
  const fake = await startFakeProvider({ policy: limited.policy });
  const prefix = testPrefix(`bench-limiter-${shared ? 'on' : 'off'}`);
  const engine = new Engine(o.redisUrl, { prefix }, pino({ level: 'silent' }));
  const apps: WorkerApp[] = [];
  try {
    // Whole answers (LLM_STREAM=false): the provider's rate limit, not the answers' duration, sets the pace.
    const env = { LLM_SHARED_LIMITER: String(shared), LLM_STREAM: 'false', LLM_MAX_ATTEMPTS: '200', LLM_BACKOFF_BASE_MS: '10', LLM_BACKOFF_MAX_MS: '50' };
    for (let i = 0; i < WORKERS; i++)
      apps.push(await startBatonWorker({ redisUrl: o.redisUrl, prefix, providerUrl: fake.url, concurrency: o.concurrency, env }));
    let ended = 0;
    let allEnded!: () => void;
    const done = new Promise<void>((resolve) => (allEnded = resolve));
    for (const app of apps) app.taskWorker.worker.on('completed', () => ++ended === SESSIONS && allEnded());
    const ids = Array.from({ length: SESSIONS }, (_, i) => `lim-${i}`);
    const started = Date.now();
    await Promise.all(ids.map((id) => engine.submit({ sessionId: `s-${id}`, taskId: id, prompt: `single turn steps=0`, mode: 'orchestrator' })));
    await done;
    const seconds = (Date.now() - started) / 1000;
    let completed = 0;
    for (const id of ids) if ((await engine.getTask(id))?.status === 'completed') completed++;
    return { rejected: limited.rejected(), seconds, completed };
  } finally {
    await Promise.all(apps.map((a) => a.close()));
    await engine.close();
    await fake.close();
    await cleanupPrefix(prefix, o.redisUrl);
  }
}

export async function benchLimiter(o: BenchOptions, _fake: RemoteFakeProvider): Promise<BenchReport> {
  const off = await side(o, false);
  const on = await side(o, true);
  const windows = Math.ceil((on.seconds * 1000) / WINDOW_MS);
  const firstBurst = Math.max(0, WORKERS * o.concurrency - R);
  const baselineName = 'each worker alone';
  return {
    name: 'limiter',
    title: 'Shared provider limiter',
    rows: [
      {
        bench: 'limiter',
        metric: `429s received (${SESSIONS} tasks, ${R} req per ${WINDOW_MS} ms)`,
        baton: String(on.rejected),
        baseline: String(off.rejected),
        baselineName,
        target: `<= first burst (${firstBurst}) + 3 per window`,
        verdict: verdict(on.rejected <= firstBurst + 3 * windows),
      },
      {
        bench: 'limiter',
        metric: 'tasks/s',
        baton: (SESSIONS / on.seconds).toFixed(1),
        baseline: (SESSIONS / off.seconds).toFixed(1),
        baselineName,
        target: `about the provider's ${((R * 1000) / WINDOW_MS).toFixed(0)}/s (a run spans partial windows)`,
        verdict: '',
      },
      {
        bench: 'limiter',
        metric: 'tasks completed',
        baton: `${on.completed}/${SESSIONS}`,
        baseline: `${off.completed}/${SESSIONS}`,
        baselineName,
        target: 'all',
        verdict: verdict(on.completed === SESSIONS),
      },
    ],
    notes: [
      `${WORKERS} in-process workers x concurrency ${o.concurrency}; the fake allows ${R} requests per fixed ${WINDOW_MS} ms window (one budget for all clients) and answers 429 with retry-after (decimal seconds) and x-ratelimit-* headers beyond.`,
      'Before any answer the limiter knows nothing, so the first burst beyond R is refused either way; after that the shared limiter holds every worker until the reset and admits R per window.',
    ],
  };
}
