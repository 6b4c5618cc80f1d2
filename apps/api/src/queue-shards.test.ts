import { shardOfSession } from '@baton/core';
import { waitUntil } from '@baton/testkit';
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
