/**
 * 7. Live event streams: `sseStreams` concurrent SSE connections (spread over
 * `sseSessions` sessions) on one API process, Baton's (every stream shares
 * the event hub's Redis readers) vs the per-stream design the API had before
 * (one Redis connection blocked in XREAD per stream). Each server in its own
 * process; the streams are real HTTP connections from this process. Measures
 * the Redis connections the streams add (INFO clients), the server's memory
 * after a full GC, and how long one live event per session takes to reach
 * every stream.
 */
import { Engine } from '@baton/core';
import { cleanupPrefix, testPrefix } from '@baton/testkit';
import { Redis } from 'ioredis';
import http from 'node:http';
import pino from 'pino';
import { BenchChild } from './child-process';
import type { RemoteFakeProvider } from './fake-provider-client';
import type { BenchOptions } from './options';
import { verdict, type BenchReport } from './report';
import { fmt, percentile } from './stats';

const KEY = 'bench-sse-secret-01';

/** One SSE connection: resolves `connected`, and the arrival time of each task.created by task id. */
class Stream {
  readonly connected: Promise<void>;
  private readonly arrivals = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  private buffer = '';
  private request: http.ClientRequest | null = null;

  constructor(url: string) {
    this.connected = new Promise((resolve, reject) => {
      this.request = http.get(url, { headers: { accept: 'text/event-stream', authorization: `Bearer ${KEY}` }, agent: false }, (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (this.buffer === '' && chunk.startsWith(': connected')) resolve();
          this.push(chunk);
        });
      });
      this.request.on('error', reject);
    });
  }

  private push(chunk: string): void {
    this.buffer += chunk;
    let at: number;
    while ((at = this.buffer.indexOf('\n\n')) !== -1) {
      const frame = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      if (!frame.includes('event: task.created')) continue;
      const data = /^data: (.*)$/m.exec(frame)?.[1];
      const taskId = data ? (JSON.parse(data) as { taskId: string }).taskId : '';
      const now = performance.now();
      this.arrivals.set(taskId, now);
      this.waiters.get(taskId)?.(now);
    }
  }

  arrival(taskId: string): Promise<number> {
    const seen = this.arrivals.get(taskId);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve) => this.waiters.set(taskId, resolve));
  }

  close(): void {
    this.request?.destroy();
  }
}

interface Side {
  connectionsAdded: number;
  sseConnections: number;
  rssPerStreamKiB: number;
  heapPerStreamKiB: number;
  rssMiB: number;
  fanP50: number;
  fanP99: number;
  fanAll: number;
}

async function connectedClients(redis: Redis): Promise<number> {
  return Number(/connected_clients:(\d+)/.exec(await redis.info('clients'))?.[1] ?? NaN);
}

async function side(o: BenchOptions, name: 'baton' | 'per-stream'): Promise<Side> {
  const prefix = testPrefix(`bench-sse-${name}`);
  const redis = new Redis(o.redisUrl);
  const engine = new Engine(o.redisUrl, { prefix }, pino({ level: 'silent' }));
  const server = await BenchChild.start<{ port: number }>('sse-server', { REDIS_URL: o.redisUrl }, [name, prefix, KEY]);
  const streams: Stream[] = [];
  try {
    const sessions = Array.from({ length: o.sseSessions }, (_, i) => `sse-${i}`);
    await Promise.all(sessions.map((sessionId) => engine.submit({ sessionId, prompt: 'first', mode: 'code', tenant: 'bench' })));
    const memory = () => server.request<{ rss: number; heapUsed: number }>('memory');
    const before = { clients: await connectedClients(redis), ...(await memory()) };

    // In batches of 100, so that the listen backlog never overflows.
    for (let i = 0; i < o.sseStreams; i += 100) {
      const batch = Array.from({ length: Math.min(100, o.sseStreams - i) }, (_, j) => {
        const sessionId = sessions[(i + j) % sessions.length]!;
        return new Stream(`http://127.0.0.1:${server.ready.port}/v1/sessions/${sessionId}/events`);
      });
      await Promise.all(batch.map((s) => s.connected));
      streams.push(...batch);
    }

    // One live event per session; time from its submit to its arrival on each stream of the session.
    const submitted = new Map<string, number>();
    const ids = await Promise.all(
      sessions.map(async (sessionId) => {
        const at = performance.now();
        const { task } = await engine.submit({ sessionId, prompt: 'second', mode: 'code', tenant: 'bench' });
        submitted.set(task.id, at);
        return task.id;
      }),
    );
    const fanStart = Math.min(...submitted.values());
    const arrivals = await Promise.all(streams.map((s, i) => s.arrival(ids[i % sessions.length]!)));
    const latencies = arrivals.map((at, i) => at - submitted.get(ids[i % sessions.length]!)!);
    const during = { clients: await connectedClients(redis), ...(await memory()) };
    const list = String(await redis.call('CLIENT', 'LIST'));
    const sseConnections = list.split('\n').filter((l) => l.includes(' name=baton-api-sse ')).length;
    return {
      connectionsAdded: during.clients - before.clients,
      sseConnections,
      rssPerStreamKiB: (during.rss - before.rss) / o.sseStreams / 1024,
      heapPerStreamKiB: (during.heapUsed - before.heapUsed) / o.sseStreams / 1024,
      rssMiB: during.rss / 1024 / 1024,
      fanP50: percentile(latencies, 50),
      fanP99: percentile(latencies, 99),
      fanAll: Math.max(...arrivals) - fanStart,
    };
  } finally {
    for (const s of streams) s.close();
    await server.stop();
    await engine.close();
    redis.disconnect();
    await cleanupPrefix(prefix, o.redisUrl);
  }
}

export async function benchSse(o: BenchOptions, _fake: RemoteFakeProvider): Promise<BenchReport> {
  const baton = await side(o, 'baton');
  const before = await side(o, 'per-stream');
  const baselineName = 'one Redis connection per stream (the API before the hub)';
  const n = o.sseStreams;
  return {
    name: 'sse',
    title: '7. Live event streams (SSE)',
    rows: [
      {
        bench: '7 sse',
        metric: `Redis connections added by ${n} streams (${o.sseSessions} sessions)`,
        baton: `${baton.connectionsAdded} (${baton.sseConnections} named baton-api-sse)`,
        baseline: String(before.connectionsAdded),
        baselineName,
        target: '<= SSE_REDIS_READERS (1)',
        verdict: verdict(baton.connectionsAdded <= 1),
      },
      {
        bench: '7 sse',
        metric: 'API memory per stream after GC, KiB: RSS / heap used',
        baton: `${fmt(baton.rssPerStreamKiB, 1)} / ${fmt(baton.heapPerStreamKiB, 1)}`,
        baseline: `${fmt(before.rssPerStreamKiB, 1)} / ${fmt(before.heapPerStreamKiB, 1)}`,
        baselineName,
        target: '',
        verdict: '',
        note: `process RSS with the streams: ${fmt(baton.rssMiB, 0)} MiB vs ${fmt(before.rssMiB, 0)} MiB`,
      },
      {
        bench: '7 sse',
        metric: 'one live event per session to its streams, ms: p50 / p99 / all delivered',
        baton: `${fmt(baton.fanP50, 1)} / ${fmt(baton.fanP99, 1)} / ${fmt(baton.fanAll, 0)}`,
        baseline: `${fmt(before.fanP50, 1)} / ${fmt(before.fanP99, 1)} / ${fmt(before.fanAll, 0)}`,
        baselineName,
        target: '',
        verdict: '',
      },
    ],
    notes: [
      `Each server in its own process: Baton's API (buildApp, SSE_REDIS_READERS=1, caps raised) and a bare Fastify route that duplicates the engine's Redis connection for each stream and loops on XREAD BLOCK (what the API did before). ${n} streams, real HTTP connections from the bench process (a socket each), opened 100 at a time, spread over ${o.sseSessions} sessions whose tasks were submitted in-process (no worker runs). Redis connections: INFO clients connected_clients with the streams open minus before (the bench's own connections do not change in between). Memory: the server's process.memoryUsage() after a forced full GC, before and with the streams, divided by the number of streams. Fan-out: one more submit per session, all at once; latency from a submit's start to its task.created arriving on each stream of that session.`,
    ],
  };
}
