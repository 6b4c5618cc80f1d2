import { shardOfSession } from '@baton/core';
import { REDIS_URL, waitUntil } from '@baton/testkit';
import pino from 'pino';
import { buildApp } from './app';
import { parseEnv } from './env';
import { startHarness, waitForTask, type Harness } from './test-utils/harness';

/** QUEUE_SHARDS=3 seen from the API: Bull Board lists every shard, /metrics labels the queue gauges by shard. */
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true, engine: { queueShards: 3 }, env: { DASHBOARD_PASSWORD: 'dash-password-1' } });
});
afterAll(async () => h.close());

const sessionIn = (shard: number) => {
  for (let i = 0; ; i++) if (shardOfSession(`api-${i}`, 3) === shard) return `api-${i}`;
};

test('Bull Board lists one queue per shard; shard 0 keeps the name and URL of the single queue', async () => {
  const auth = { authorization: `Basic ${Buffer.from('admin:dash-password-1').toString('base64')}` };
  const api = await h.app.inject({ url: '/admin/queues/api/queues', headers: auth });
  expect(api.statusCode).toBe(200);
  const queues = api.json().queues as { name: string; displayName?: string }[];
  expect(queues.map((q) => q.name)).toEqual(['tasks', 'shard1-tasks', 'shard2-tasks']);
  expect(queues.map((q) => q.displayName)).toEqual(['tasks (shard 0)', 'tasks (shard 1)', 'tasks (shard 2)']);
});

test('metrics count each shard’s jobs under its own shard label', async () => {
  const sessionId = sessionIn(2);
  const task = (await h.app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/tasks`, payload: { prompt: 'm' } })).json();
  await waitForTask(h.engine, task.id, ['completed']);
  await waitUntil(async () => (await h.engine.queueFor(sessionId).getJobState(task.id)) === 'completed', 10_000);
  const body = await h.scrape();
  expect(body).toMatch(/baton_queue_jobs\{queue="tasks",shard="2",state="completed"\} 1\n/);
  expect(body).toMatch(/baton_queue_jobs\{queue="tasks",shard="0",state="completed"\} 0\n/);
  expect(body).toMatch(/baton_queue_jobs\{queue="tasks",shard="1",state="completed"\} 0\n/);
});

test('an API started with another QUEUE_SHARDS while a job is queued refuses to start, naming the fix', async () => {
  expect((await h.engine.checkQueueShards()).kind).toMatch(/first|same/);
  // A parked (delayed) job is unfinished work, like a task awaiting input.
  const sessionId = sessionIn(1);
  await h.engine.queueFor(sessionId).add('task', { taskId: 'parked-job', sessionId }, { jobId: 'parked-job', delay: 3_600_000 });
  try {
    const config = parseEnv({ REDIS_URL, BATON_PREFIX: h.prefix, API_AUTH: 'none', LOG_LEVEL: 'silent', QUEUE_SHARDS: '2' });
    await expect(buildApp(config, { logger: pino({ level: 'silent' }) })).rejects.toThrow(
      /QUEUE_SHARDS=2, but this deployment .* runs with QUEUE_SHARDS=3 and its queues hold 1 unfinished job\(s\)/,
    );
  } finally {
    await h.engine.queueFor(sessionId).remove('parked-job');
  }
});
