/**
 * 4. Enqueue through the API: autocannon against Baton's
 * `POST /v1/sessions/{id}/tasks` (buildApp, listening on a port, a distinct
 * session id per request) vs a minimal Fastify route that only calls
 * `queue.add`. Each server in its own process; autocannon here. No workers.
 */
import { cleanupPrefix, testPrefix } from '@baton/testkit';
import autocannon from 'autocannon';
import { BenchChild } from './child-process';
import type { RemoteFakeProvider } from './fake-provider-client';
import type { BenchOptions } from './options';
import { verdict, type BenchReport } from './report';
import { fmt } from './stats';

interface Load {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  total: number;
}

async function load(port: number, seconds: number, connections: number, tag: string): Promise<Load> {
  let seq = 0;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: 'benchmark message', mode: 'code' }),
        setupRequest: (req) => ({ ...req, path: `/v1/sessions/${tag}-${++seq}/tasks` }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    total: result.requests.total,
  };
}

async function side(o: BenchOptions, name: 'baton' | 'plain'): Promise<Load> {
  const prefix = testPrefix(`bench-enq-${name}`);
  const server = await BenchChild.start<{ port: number }>('enqueue-server', { REDIS_URL: o.redisUrl }, [name, prefix]);
  try {
    await load(server.ready.port, Math.min(2, o.enqueueSeconds), o.enqueueConnections, 'warm');
    return await load(server.ready.port, o.enqueueSeconds, o.enqueueConnections, 'run');
  } finally {
    await server.stop();
    await cleanupPrefix(prefix, o.redisUrl);
  }
}

export async function benchEnqueue(o: BenchOptions, _fake: RemoteFakeProvider): Promise<BenchReport> {
  const plain = await side(o, 'plain');
  const baton = await side(o, 'baton');
  const ratio = baton.rps / plain.rps;
  const name = 'Fastify route calling queue.add';
  return {
    name: 'enqueue',
    title: '4. Enqueue through the API',
    rows: [
      {
        bench: '4 enqueue',
        metric: `POST /v1/sessions/{id}/tasks requests/s (${o.enqueueConnections} connections, ${o.enqueueSeconds} s)`,
        baton: fmt(baton.rps, 0),
        baseline: fmt(plain.rps, 0),
        baselineName: name,
        target: '>= 0.7x',
        verdict: verdict(ratio >= 0.7),
        note: `ratio ${fmt(ratio, 2)}x`,
      },
      {
        bench: '4 enqueue',
        metric: 'latency ms: p50 / p99',
        baton: `${fmt(baton.p50, 1)} / ${fmt(baton.p99, 1)}`,
        baseline: `${fmt(plain.p50, 1)} / ${fmt(plain.p99, 1)}`,
        baselineName: name,
        target: '',
        verdict: '',
      },
      {
        bench: '4 enqueue',
        metric: 'non-2xx / errors',
        baton: `${baton.non2xx} / ${baton.errors} of ${baton.total}`,
        baseline: `${plain.non2xx} / ${plain.errors} of ${plain.total}`,
        baselineName: name,
        target: '0',
        verdict: verdict(baton.non2xx === 0 && baton.errors === 0),
      },
    ],
    notes: [
      'Each server in its own process (Baton: buildApp from @baton/api with its own engine, logger silent, rate limit raised to 1,000,000/min (counted in Redis: one more script call per request), API_AUTH=none; baseline: bare Fastify, one route, `queue.add` on a hash-tagged prefix), autocannon in the bench process, a distinct session id per request (so every Baton submit dispatches and adds a job, like the baseline). 2 s warm-up per side, not counted. No workers run.',
      'Per request Baton does: zod validation of params/headers/body, auth hook, rate limiter, helmet headers, then engine.submit = SET NX (task index), ZADD (session index) and the submit-root script sent together (one round trip, one socket write), then the BullMQ add (Queue.add) sent with the task count (one socket write): two round trips, no read-back; then a zod-serialised 201. The baseline does one BullMQ add. Why the target is missed: per request Baton sends 6 Redis commands in 3 round trips and 3 socket writes (the rate limit; the task index, session index and submit script; the job add and the task count) where the baseline sends 1, Redis runs the submit script (idempotency check, busy policy, task record, lane, dispatch, event) on the same 2 cores, and the API process spends about 2.5 to 4 times the CPU per request of the baseline (measured with /proc on the server process: socket writes, ioredis command handling, zod request and response schemas, helmet, rate limit). The rate limit cannot share the write of the submit (its answer decides whether the submit is sent), and the job add can only join the submit script where the queue and the session share a slot.',
    ],
  };
}
