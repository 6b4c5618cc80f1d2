import { Engine } from '@baton/core';
import { cleanupPrefix, REDIS_URL, startApi, testPrefix, type ApiProcess } from '@baton/testkit';
import { BatonClient } from './baton-client';
import { BatonApiError, BatonConnectionError } from './errors';
import type { SessionEvent } from './event-stream';

/**
 * The typed client against the real API process (`node apps/api/dist/main.js`)
 * on real Redis, with no worker: submitted roots stay queued, so every state
 * the test reads is one it made. (Running tasks: cli.e2e.test.ts.)
 */
const ACME = 'acme-secret-0001';
const GLOBEX = 'globex-secret-0001';

let prefix: string;
let api: ApiProcess;
let acme: BatonClient;
let globex: BatonClient;
let engine: Engine;

beforeAll(async () => {
  prefix = testPrefix('client');
  api = await startApi(prefix, { API_KEYS: `acme:${ACME},globex:${GLOBEX}` });
  acme = new BatonClient({ baseUrl: api.url, apiKey: ACME });
  globex = new BatonClient({ baseUrl: api.url, apiKey: GLOBEX });
  engine = new Engine(REDIS_URL, { prefix });
});

afterAll(async () => {
  await api?.stop();
  await engine?.close();
  await cleanupPrefix(prefix);
});

async function problemOf(promise: Promise<unknown>): Promise<BatonApiError> {
  const err = await promise.then(
    () => new Error('expected a BatonApiError'),
    (e: unknown) => e,
  );
  if (!(err instanceof BatonApiError)) throw err;
  return err;
}

describe('BatonClient against the API process', () => {
  it('submit: 201 creates a task; the same key and body replays it; the same key with another body is a 422 problem', async () => {
    const first = await acme.submit('s-submit', { prompt: 'hello', idempotencyKey: 'key-1', metadata: { ticket: 42 } });
    expect(first.replayed).toBe(false);
    expect(first.task).toMatchObject({
      sessionId: 's-submit',
      parentId: null,
      rootId: first.task.id,
      mode: 'orchestrator',
      prompt: 'hello',
      status: 'queued',
      result: null,
      error: null,
      childIds: [],
      turns: 0,
      startedAt: null,
      finishedAt: null,
    });
    expect(Date.parse(first.task.createdAt!)).toBeGreaterThan(0);

    const replay = await acme.submit('s-submit', { prompt: 'hello', idempotencyKey: 'key-1', metadata: { ticket: 42 } });
    expect(replay).toEqual({ task: first.task, replayed: true });

    const conflict = await problemOf(acme.submit('s-submit', { prompt: 'other', idempotencyKey: 'key-1' }));
    expect(conflict.status).toBe(422);
    expect(conflict.problem).toMatchObject({ status: 422, type: expect.any(String), title: expect.any(String) });
  });

  it('submit with a budget shows it on the root; getUsage reads the caller tenant’s days only; a bad day is a 400 problem', async () => {
    const { task } = await acme.submit('s-budget', { prompt: 'capped', budget: { maxTurns: 3, maxCostUsd: 0.5 }, onBudget: 'ask' });
    expect(task).toMatchObject({
      budget: { maxTurns: 3, maxCostUsd: 0.5 },
      onBudget: 'ask',
      cost: 0,
      treeCost: 0,
      usage: { turns: 0 },
      treeUsage: { turns: 0 },
    });
    // A day of usage as the workers record it (tenant-rollup-4.lua).
    await engine.scripts.tenantRollup({
      tenant: 'acme',
      day: '2026-01-05',
      tokens: { input: 100, output: 10, cached: 40 },
      costUsd: 0.002,
      id: 'client-usage:1',
      ttlSeconds: 600,
      markerTtlSeconds: 600,
    });
    const usage = { inputTokens: 100, outputTokens: 10, cachedTokens: 40, turns: 1, unpricedTurns: 0 };
    expect(await acme.getUsage('2026-01-01', '2026-01-31')).toEqual({
      from: '2026-01-01',
      to: '2026-01-31',
      days: [{ day: '2026-01-05', usage, cost: 0.002 }],
      total: { usage, cost: 0.002 },
    });
    expect((await globex.getUsage('2026-01-01', '2026-01-31')).days).toEqual([]);
    expect((await problemOf(acme.getUsage('2026-01-31', '2026-01-01'))).status).toBe(400);
  });

  it('reads a task, its tree, its messages and its session', async () => {
    const { task } = await acme.submit('s-read', { prompt: 'read me', mode: 'code' });
    expect(await acme.getTask(task.id)).toEqual(task);
    expect(await acme.getTree(task.id)).toEqual({ ...task, children: [] });
    expect(await acme.getMessages(task.id)).toEqual([]);
    // No worker: the root took the session's lease and waits for one.
    expect(await acme.getSession('s-read')).toEqual({
      id: 's-read',
      status: 'running',
      activeTaskId: task.id,
      queuedTaskIds: [],
      usage: { inputTokens: 0, outputTokens: 0, cachedTokens: 0, turns: 0, unpricedTurns: 0 },
      cost: 0,
    });
  });

  it('onBusy: reject is a 409 naming the active task; enqueue queues behind it; cancel hands the session on', async () => {
    const { task: active } = await acme.submit('s-busy', { prompt: 'first' });
    const busy = await problemOf(acme.submit('s-busy', { prompt: 'second', onBusy: 'reject' }));
    expect(busy.status).toBe(409);
    expect(JSON.stringify(busy.problem)).toContain(active.id);

    const { task: queued } = await acme.submit('s-busy', { prompt: 'third', onBusy: 'enqueue' });
    expect(await acme.getSession('s-busy')).toMatchObject({ activeTaskId: active.id, queuedTaskIds: [queued.id] });

    const cancelled = await acme.cancel(active.id);
    expect(cancelled).toMatchObject({ id: active.id, status: 'cancelled' });
    expect(cancelled.finishedAt).not.toBeNull();
    expect(await acme.cancel(active.id)).toMatchObject({ id: active.id, status: 'cancelled' }); // idempotent
    expect(await acme.getSession('s-busy')).toMatchObject({ activeTaskId: queued.id, queuedTaskIds: [] });
  });

  it('pause and resume return the session and are idempotent', async () => {
    const { task } = await acme.submit('s-pause', { prompt: 'holds the session' });
    expect(await acme.pause('s-pause')).toMatchObject({ id: 's-pause', status: 'paused', activeTaskId: task.id });
    expect(await acme.pause('s-pause')).toMatchObject({ status: 'paused' });
    const { task: next } = await acme.submit('s-pause', { prompt: 'waits for resume' });
    expect(next.status).toBe('queued');
    expect(await acme.resume('s-pause')).toMatchObject({ id: 's-pause', status: 'running', activeTaskId: task.id, queuedTaskIds: [next.id] });
    expect(await acme.resume('s-pause')).toMatchObject({ status: 'running' });
  });

  it('turns error statuses into BatonApiError with the RFC 9457 problem', async () => {
    const missing = await problemOf(acme.getTask('no-such-task'));
    expect(missing.status).toBe(404);
    expect(missing.problem).toEqual(expect.objectContaining({ type: expect.any(String), title: expect.any(String), status: 404, detail: expect.any(String) }));

    const badId = await problemOf(acme.getTask('bad id!'));
    expect(badId.status).toBe(400);

    const anonymous = new BatonClient({ baseUrl: api.url });
    expect((await problemOf(anonymous.getSession('s-read'))).status).toBe(401);
    expect((await problemOf(new BatonClient({ baseUrl: api.url, apiKey: 'wrong-secret-123' }).getSession('s-read'))).status).toBe(401);
  });

  it("isolates tenants: another tenant's tasks and sessions are 404 on every call, the event stream included", async () => {
    const { task } = await acme.submit('s-tenant', { prompt: 'private' });
    for (const call of [
      globex.getTask(task.id),
      globex.getTree(task.id),
      globex.getMessages(task.id),
      globex.cancel(task.id),
      globex.getSession('s-tenant'),
      globex.pause('s-tenant'),
      globex.resume('s-tenant'),
      globex.events('s-tenant').next(),
    ]) {
      expect((await problemOf(call)).status).toBe(404);
    }
    expect((await acme.getTask(task.id)).status).toBe('queued'); // globex's cancel did nothing
  });

  it('exportTask gives the typed document; deleteTask is a 409 problem until the root finished, then deletes it; deleteSession deletes, then 404', async () => {
    const { task } = await acme.submit('s-life', { prompt: 'archive me', mode: 'code' });
    const doc = await acme.exportTask(task.id);
    expect(doc).toMatchObject({ version: 1, root: { ...task, children: [] } });
    expect(Date.parse(doc.exportedAt)).toBeGreaterThan(0);
    expect(doc.conversations[task.id] ?? []).toEqual([]);
    expect(doc.events.map((e) => [e.type, e.taskId])).toContainEqual(['task.created', task.id]);
    expect((await problemOf(globex.exportTask(task.id))).status).toBe(404);

    const running = await problemOf(acme.deleteTask(task.id));
    expect(running.status).toBe(409);
    expect(running.type).toBe('urn:baton:problem:task-not-terminal');
    await acme.cancel(task.id);
    expect((await problemOf(globex.deleteTask(task.id))).status).toBe(404);
    await expect(acme.deleteTask(task.id)).resolves.toBeUndefined();
    expect((await problemOf(acme.getTask(task.id))).status).toBe(404);
    expect((await problemOf(acme.deleteTask(task.id))).status).toBe(404);

    // No worker: the next root is dispatched but never started, so nothing holds it and the deletion is immediate.
    const { task: next } = await acme.submit('s-life', { prompt: 'never runs' });
    expect((await problemOf(globex.deleteSession('s-life'))).status).toBe(404);
    expect(await acme.deleteSession('s-life')).toEqual({ sessionId: 's-life', state: 'deleted' });
    expect((await problemOf(acme.deleteSession('s-life'))).status).toBe(404);
    expect((await problemOf(acme.getSession('s-life'))).status).toBe(404);
    expect((await problemOf(acme.getTask(next.id))).status).toBe(404);
  });

  it('reports an unreachable server as BatonConnectionError', async () => {
    const closed = new BatonClient({ baseUrl: 'http://127.0.0.1:9' });
    await expect(closed.getTask('t1')).rejects.toThrow(BatonConnectionError);
    await expect(closed.getTask('t1')).rejects.toThrow('cannot reach Baton at http://127.0.0.1:9/v1/tasks/t1');
  });
});

describe('BatonClient.events against the API process', () => {
  /** Pulls events from `iterator` until `into` holds `count` of them. */
  async function readInto(iterator: AsyncGenerator<SessionEvent>, into: SessionEvent[], count: number): Promise<void> {
    while (into.length < count) {
      const next = await iterator.next();
      if (next.done) throw new Error(`stream ended after ${into.length} of ${count} events`);
      into.push(next.value);
    }
  }

  it('streams the session events in order with their stream ids; lastEventId resumes after a given event', async () => {
    const { task } = await acme.submit('s-events', { prompt: 'one' });
    await acme.pause('s-events');
    const stored = await engine.readEvents('s-events');

    const all: SessionEvent[] = [];
    const iterator = acme.events('s-events');
    await readInto(iterator, all, stored.length);
    await iterator.return();
    expect(all.map((e) => [e.id, e.type, e.taskId])).toEqual(stored.map((e) => [e.id, e.type, e.taskId]));
    expect(all[0]).toMatchObject({ type: 'task.created', taskId: task.id, data: expect.objectContaining({ sessionId: 's-events' }) });
    expect(all.at(-1)!.type).toBe('session.paused');

    const resumed: SessionEvent[] = [];
    const after = acme.events('s-events', { lastEventId: stored[0]!.id });
    await readInto(after, resumed, stored.length - 1);
    await after.return();
    expect(resumed.map((e) => e.id)).toEqual(stored.slice(1).map((e) => e.id));
  });

  it('survives an API restart: events written while the API was down arrive after the reconnect, once each, in order', async () => {
    const sessionId = 's-restart';
    await acme.submit(sessionId, { prompt: 'before the restart' });
    const opens: boolean[] = [];
    const seen: SessionEvent[] = [];
    const iterator = acme.events(sessionId, { reconnectDelayMs: 50, maxReconnectDelayMs: 300, onOpen: ({ reconnect }) => opens.push(reconnect) });
    await readInto(iterator, seen, (await engine.readEvents(sessionId)).length);

    await api.stop();
    // The engine goes on writing the session's events with no API up.
    await engine.pause(sessionId);
    await engine.submit({ sessionId, prompt: 'while the API is down', tenant: 'acme' });
    await engine.resume(sessionId);
    api = await startApi(prefix, { API_KEYS: `acme:${ACME},globex:${GLOBEX}`, PORT: String(api.port) });

    const stored = await engine.readEvents(sessionId);
    await readInto(iterator, seen, stored.length);
    await iterator.return();
    expect(seen.map((e) => e.id)).toEqual(stored.map((e) => e.id));
    expect(new Set(seen.map((e) => e.id)).size).toBe(seen.length);
    expect(opens[0]).toBe(false);
    expect(opens.slice(1).length).toBeGreaterThan(0);
  });
});
