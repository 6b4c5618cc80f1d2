import { BatonClient, isResetEvent, type SessionEvent } from '@baton/client';
import { Keys } from '@baton/core';
import { startApi, testPrefix, type ApiProcess } from '@baton/testkit';
import { Redis } from 'ioredis';
import { RedisCluster } from '../support/redis-cluster';

/**
 * The API's live event streams on a 3-master Redis Cluster: sessions live on
 * different slots (one XREAD cannot span them), so the API polls them with a
 * cluster client of its own. Streams of many sessions get their events in
 * order, a trimmed Last-Event-ID gets a reset, and the streams hold at most
 * one Redis connection per node. No worker: submitted tasks stay queued,
 * which is enough to write events.
 */
const KEY = 'cluster-sse-secret-1';
let cluster: RedisCluster | undefined;
let api: ApiProcess | undefined;

afterAll(async () => {
  await api?.stop();
  await cluster?.destroy();
});

async function take(iterator: AsyncGenerator<SessionEvent>, match: (e: SessionEvent) => boolean): Promise<SessionEvent[]> {
  const seen: SessionEvent[] = [];
  for await (const event of iterator) {
    seen.push(event);
    if (match(event)) break;
  }
  return seen;
}

it('event streams on a Redis Cluster: many sessions in order, reset on a trimmed position, one connection per node at most', async () => {
  cluster = await RedisCluster.start();
  const prefix = testPrefix('sse-cluster');
  api = await startApi(prefix, { REDIS_URL: cluster.url, API_KEYS: `acme:${KEY}`, SSE_CLUSTER_POLL_MS: '50', RATE_LIMIT_MAX: '100000' });
  const client = new BatonClient({ baseUrl: api.url, apiKey: KEY });

  const sessions = Array.from({ length: 12 }, (_, i) => `cl-sse-${i}`);
  const first = await Promise.all(sessions.map((s) => client.submit(s, { prompt: 'first', mode: 'code' })));
  const streams = sessions.map((s) => client.events(s));
  // Each stream is open and caught up (its first task's event) before the second submits.
  const backlog = await Promise.all(streams.map((it, i) => take(it, (e) => e.taskId === first[i]!.task.id)));
  const second = await Promise.all(sessions.map((s) => client.submit(s, { prompt: 'second', mode: 'code' })));
  const live = await Promise.all(streams.map((it, i) => take(it, (e) => e.taskId === second[i]!.task.id)));

  const nodes = cluster.nodes.map((n) => new Redis({ port: n.port, host: '127.0.0.1' }));
  try {
    const lists = await Promise.all(nodes.map(async (n) => String(await n.call('CLIENT', 'LIST'))));
    const sseConnections = lists.flatMap((l) => l.split('\n')).filter((l) => l.includes(' name=baton-api-sse ')).length;
    expect(sseConnections).toBeGreaterThan(0);
    expect(sseConnections).toBeLessThanOrEqual(nodes.length);

    const keys = new Keys(prefix);
    const all: string[][] = [];
    for (const [i, s] of sessions.entries()) {
      const ids = [...backlog[i]!, ...live[i]!].map((e) => e.id);
      // Strictly increasing stream ids: in order, none twice.
      const asPairs = ids.map((id) => id.split('-').map(BigInt) as [bigint, bigint]);
      expect(asPairs.every(([ms, seq], j) => j === 0 || ms > asPairs[j - 1]![0] || (ms === asPairs[j - 1]![0] && seq > asPairs[j - 1]![1]))).toBe(true);
      expect([...backlog[i]!, ...live[i]!].every((e) => (e.data as { sessionId: string }).sessionId === s)).toBe(true);
      all.push(ids);
    }
    for (const it of streams) await it.return();

    // Trim one session's stream on its node, then resume from its first event: a reset comes first.
    const clusterClient = new Redis.Cluster(cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port })));
    try {
      await clusterClient.xadd(keys.events(sessions[0]!), '*', 'type', 'session.paused', 'at', String(Date.now()));
      await clusterClient.xtrim(keys.events(sessions[0]!), 'MAXLEN', 1);
      const [oldest] = (await clusterClient.xrange(keys.events(sessions[0]!), '-', '+')) as [string, string[]][];
      const resumed = await take(client.events(sessions[0]!, { lastEventId: all[0]![0]! }), (e) => e.id === oldest![0]);
      expect(resumed.map((e) => e.type)).toEqual(['reset', 'session.paused']);
      expect(isResetEvent(resumed[0]!) && resumed[0]!.reset).toMatchObject({ lastEventId: all[0]![0], oldestEventId: oldest![0] });
    } finally {
      clusterClient.disconnect();
    }
  } finally {
    for (const n of nodes) n.disconnect();
  }
});
