import { waitUntil } from '@baton/testkit';
import type { AddressInfo } from 'node:net';
import { SseClient } from '../test-utils/sse-client';
import { startHarness, waitForTask, type Harness } from '../test-utils/harness';

let h: Harness;
let base: string;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { SSE_KEEPALIVE_MS: '200' } });
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
});
afterAll(async () => h.close());

const submit = async (sessionId: string, prompt: string) =>
  (await h.app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/tasks`, payload: { prompt } })).json() as { id: string };

const openStreams = async () => /baton_api_sse_streams (\d+)/.exec(await h.scrape())?.[1];

describe('GET /v1/sessions/{id}/events (SSE)', () => {
  test('streams live events; a reconnect with Last-Event-ID loses nothing and repeats nothing', async () => {
    const first = await submit('s-sse', 'hold:sse');
    await h.model.started('sse');
    const stream = await SseClient.open(`${base}/v1/sessions/s-sse/events`);
    expect(stream.status).toBe(200);
    expect(stream.headers['content-type']).toMatch(/^text\/event-stream/);
    await stream.waitFor((f) => f.event === 'turn.started');

    h.model.release('sse'); // live from here
    await stream.waitFor((f) => f.event === 'task.completed');
    const seen = stream.events;
    expect(seen.map((e) => e.event)).toEqual(['task.created', 'task.started', 'turn.started', 'turn.completed', 'task.completed']);
    for (const e of seen) expect(e.data).toMatchObject({ id: e.id, type: e.event, sessionId: 's-sse', taskId: first.id });
    stream.close();
    await stream.ended.promise;

    // While disconnected, another task runs.
    const second = await submit('s-sse', 'later');
    await waitForTask(h.engine, second.id, ['completed']);

    const lastId = seen[seen.length - 1]!.id;
    const resumed = await SseClient.open(`${base}/v1/sessions/s-sse/events`, { 'last-event-id': lastId });
    await resumed.waitFor((f) => f.event === 'task.completed');
    const all = await h.engine.readEvents('s-sse');
    const ids = [...seen, ...resumed.events].map((e) => e.id);
    expect(ids).toEqual(all.map((e) => e.id)); // every event once, in order
    expect(resumed.events.every((e) => e.data.taskId === second.id)).toBe(true);
    resumed.close();

    // The lastEventId query parameter resumes the same way.
    const byQuery = await SseClient.open(`${base}/v1/sessions/s-sse/events?lastEventId=${lastId}`);
    await byQuery.waitFor((f) => f.event === 'task.completed');
    expect(byQuery.events.map((e) => e.id)).toEqual(resumed.events.map((e) => e.id));
    byQuery.close();
  });

  test('sends keep-alive comments while idle and releases its Redis connection when the client goes', async () => {
    await waitForTask(h.engine, (await submit('s-idle', 'x')).id, ['completed']);
    const stream = await SseClient.open(`${base}/v1/sessions/s-idle/events`);
    await stream.waitFor((f) => f.comment === 'keep-alive');
    expect(await openStreams()).toBe('1');
    stream.close();
    await waitUntil(async () => (await openStreams()) === '0', 5000);
  });

  test('refuses an unknown session (404) and a malformed Last-Event-ID (400) as problems', async () => {
    const missing = await h.app.inject('/v1/sessions/never/events');
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    const bad = await h.app.inject({ url: '/v1/sessions/s-idle/events', headers: { 'last-event-id': 'garbage' } });
    expect(bad.statusCode).toBe(400);
    const badQuery = await h.app.inject('/v1/sessions/s-idle/events?lastEventId=nope');
    expect(badQuery.statusCode).toBe(400);
  });
});
