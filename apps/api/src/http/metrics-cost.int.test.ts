import { RedisServer } from '@baton/testkit';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildApp } from '../app';
import { parseEnv } from '../env';

/**
 * The cost of one /metrics scrape in Redis commands, counted by a private
 * redis-server (INFO commandstats, which also counts the commands that
 * scripts run): the same with 10 sessions as with 1,000.
 */
const TOKEN = 'metrics-cost-token-01';

let redisServer: RedisServer;
let admin: Redis;
let app: FastifyInstance;

beforeAll(async () => {
  redisServer = await RedisServer.start('metrics-cost', ['--appendonly', 'no']);
  admin = new Redis(redisServer.url);
  app = await buildApp(parseEnv({ REDIS_URL: redisServer.url, API_AUTH: 'none', METRICS_TOKEN: TOKEN, LOG_LEVEL: 'silent' }), {
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await app?.close();
  admin?.disconnect();
  await redisServer?.destroy();
});

/** Commands executed so far, INFO itself excluded. */
async function commandsSoFar(): Promise<number> {
  const info = await admin.info('commandstats');
  let total = 0;
  for (const [, name, calls] of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (name !== 'info') total += Number(calls);
  return total;
}

async function scrapeCost(): Promise<{ commands: number; body: string }> {
  const before = await commandsSoFar();
  const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.statusCode).toBe(200);
  const commands = (await commandsSoFar()) - before;
  return { commands, body: res.body };
}

async function addSessions(from: number, to: number): Promise<void> {
  for (let i = from; i < to; i += 100) {
    await Promise.all(Array.from({ length: Math.min(100, to - i) }, (_, j) => app.engine.submit({ sessionId: `cost-${i + j}`, prompt: 'p', mode: 'code' })));
  }
}

test('one scrape costs the same few Redis commands with 10 sessions and with 1,000', async () => {
  await addSessions(0, 10);
  await scrapeCost(); // loads BullMQ's counting script once
  const small = await scrapeCost();
  expect(small.body).toMatch(/baton_sessions_tracked 10\n/);
  expect(small.body).toMatch(/baton_tasks_created_total\{kind="root"\} 10\n/);

  await addSessions(10, 1000);
  const large = await scrapeCost();
  expect(large.body).toMatch(/baton_sessions_tracked 1000\n/);
  expect(large.body).toMatch(/baton_tasks_created_total\{kind="root"\} 1000\n/);
  expect(large.body).toMatch(/baton_queue_jobs\{queue="tasks",shard="0",state="waiting"\} 1000\n/);

  expect(large.commands).toBe(small.commands);
  expect(small.commands).toBeLessThanOrEqual(16);
}, 60_000);
