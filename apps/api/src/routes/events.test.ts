import { waitUntil } from '@baton/testkit';
import type { AddressInfo } from 'node:net';
import { idBefore } from '../http/stream-id';
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

  test('sends keep-alive comments while idle and releases the stream when the client goes', async () => {
    await waitForTask(h.engine, (await submit('s-idle', 'x')).id, ['completed']);
    const stream = await SseClient.open(`${base}/v1/sessions/s-idle/events`);
    await stream.waitFor((f) => f.comment === 'keep-alive');
    expect(await openStreams()).toBe('1');
    stream.close();
    await waitUntil(async () => (await openStreams()) === '0', 5000);
  });

  test('a Last-Event-ID that was trimmed gets a reset first, then the oldest retained events; the reset id resumes cleanly', async () => {
    for (const prompt of ['one', 'two', 'three']) await waitForTask(h.engine, (await submit('s-trim', prompt)).id, ['completed']);
    const all = await h.engine.readEvents('s-trim');
    expect(all.length).toBeGreaterThan(8);
    const key = h.engine.keys.events('s-trim');
    await h.redis.xtrim(key, 'MAXLEN', 5); // exact: what the count cap (and age) do over time
    const kept = all.slice(-5);
    const url = `${base}/v1/sessions/s-trim/events`;

    const stream = await SseClient.open(url, { 'last-event-id': all[0]!.id });
    await stream.waitFor((f) => f.id === kept[4]!.id);
    const [reset, ...rest] = stream.events;
    expect(stream.frames.filter((f) => f.comment === undefined)[0]!.event).toBe('reset'); // before any event
    expect(reset!.event).toBe('reset');
    expect(reset!.id).toBe(idBefore(kept[0]!.id));
    expect(reset!.data).toMatchObject({ type: 'reset', sessionId: 's-trim', reason: 'events-trimmed', lastEventId: all[0]!.id, oldestEventId: kept[0]!.id });
    expect(reset!.data.detail).toContain('GET /v1/sessions/{sessionId}');
    expect(rest.map((e) => e.id)).toEqual(kept.map((e) => e.id));
    stream.close();

    // Reconnecting with the reset's id (what an EventSource sends): no second reset, nothing missed.
    const resumed = await SseClient.open(url, { 'last-event-id': reset!.id });
    await resumed.waitFor((f) => f.id === kept[4]!.id);
    expect(resumed.events.map((e) => e.id)).toEqual(kept.map((e) => e.id));
    resumed.close();

    // A reader that is up to date (or asks for everything) is never told to reset.
    for (const headers of [{ 'last-event-id': kept[4]!.id }, {}] as Record<string, string>[]) {
      const quiet = await SseClient.open(url, headers);
      await quiet.waitFor((f) => f.comment === 'keep-alive');
      expect(quiet.frames.some((f) => f.event === 'reset')).toBe(false);
      quiet.close();
    }

    // Age trimming can empty the stream: the reset then names no oldest event and resumes after the newest id.
    await h.redis.xtrim(key, 'MINID', idBefore(`${Date.now() + 1000}-0`));
    const emptied = await SseClient.open(`${url}?lastEventId=${kept[1]!.id}`);
    const frame = await emptied.waitFor((f) => f.event === 'reset');
    expect(frame.id).toBe(kept[4]!.id);
    expect(JSON.parse(frame.data!)).toMatchObject({ lastEventId: kept[1]!.id, oldestEventId: null });
    emptied.close();
  });

  test('many concurrent streams of different sessions each get their own events, in order', async () => {
    const sessions = Array.from({ length: 12 }, (_, i) => `s-many-${i}`);
    // Sessions exist before their streams open (a stream of an unknown session is 404).
    const firsts = await Promise.all(sessions.map((s) => submit(s, 'first')));
    const streams = await Promise.all(sessions.map((s) => SseClient.open(`${base}/v1/sessions/${s}/events`)));
    const seconds = await Promise.all(sessions.map((s) => submit(s, 'second')));
    await Promise.all(streams.map((stream, i) => stream.waitFor((f) => f.event === 'task.completed' && JSON.parse(f.data!).taskId === seconds[i]!.id)));
    for (const [i, stream] of streams.entries()) {
      const expected = (await h.engine.readEvents(sessions[i]!)).map((e) => e.id);
      const got = stream.events.map((e) => e.id);
      expect(got).toEqual(expected.slice(0, got.length));
      expect(stream.events.every((e) => e.data.sessionId === sessions[i])).toBe(true);
      expect(new Set(stream.events.map((e) => e.data.taskId))).toEqual(new Set([firsts[i]!.id, seconds[i]!.id]));
      stream.close();
    }
    await waitUntil(async () => (await openStreams()) === '0', 5000);
    expect(/baton_api_sse_redis_connections (\d+)/.exec(await h.scrape())?.[1]).toBe('1');
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
