import { SessionIndex } from '../http/session-index';
import { startHarness, type Harness } from '../test-utils/harness';

/** GET /v1/sessions (the per-tenant session list) and GET /v1/sessions/{id}/tasks (a session's roots), on real Redis. */

const ACME = 'acme-secret-1';
const GLOBEX = 'globex-secret-1';
const as = (secret: string) => ({ authorization: `Bearer ${secret}` });

let h: Harness;
beforeAll(async () => {
  // No worker: submitted roots stay queued, so their sessions exist for as long as the test needs.
  h = await startHarness({ env: { API_KEYS: `acme:${ACME},globex:${GLOBEX}` } });
});
afterAll(async () => h.close());

const submit = async (secret: string, sessionId: string, prompt = 'listed') => {
  const res = await h.app.inject({ method: 'POST', url: `/v1/sessions/${sessionId}/tasks`, headers: as(secret), payload: { prompt } });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string }>();
};
const list = async (secret: string, query = '') => {
  const res = await h.app.inject({ url: `/v1/sessions${query}`, headers: as(secret) });
  expect(res.statusCode).toBe(200);
  return res.json<{ sessions: { id: string; status: string; activeTaskId: string | null; lastActivityAt: string }[]; nextCursor: string | null }>();
};
const ids = (page: { sessions: { id: string }[] }) => page.sessions.map((s) => s.id);

/** Every page of a tenant's list, following nextCursor. */
async function allPages(secret: string, limit: number): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | null = null;
  do {
    const page = await list(secret, `?limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    pages.push(ids(page));
    cursor = page.nextCursor;
  } while (cursor !== null && pages.length < 50);
  return pages;
}

describe('GET /v1/sessions', () => {
  test("a submission lists its session for its tenant only, with status, active task and the submission's time", async () => {
    const before = Date.now();
    const task = await submit(ACME, 'iso-a');
    await submit(GLOBEX, 'iso-g');
    const after = Date.now();

    const acme = await list(ACME);
    expect(ids(acme)).toEqual(['iso-a']);
    expect(acme.nextCursor).toBeNull();
    const [entry] = acme.sessions;
    expect(entry).toEqual({ id: 'iso-a', status: 'running', activeTaskId: task.id, lastActivityAt: expect.any(String) });
    const at = Date.parse(entry!.lastActivityAt);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(at).toBeLessThanOrEqual(after);
    expect(ids(await list(GLOBEX))).toEqual(['iso-g']);

    expect((await h.app.inject({ url: '/v1/sessions' })).statusCode).toBe(401);
    expect((await h.app.inject({ url: '/v1/sessions', headers: as('not-a-key-at-all') })).statusCode).toBe(401);
    await h.redis.del(h.engine.keys.tenantSessions('acme'), h.engine.keys.tenantSessions('globex'));
  });

  test('newest activity first: a new submission moves its session to the front', async () => {
    await submit(ACME, 'ord-1');
    await submit(ACME, 'ord-2');
    await submit(ACME, 'ord-3');
    // Pin the times (submissions can share a millisecond), then submit to the oldest again.
    await h.app.sessionIndex.record('acme', 'ord-1', 1_000);
    await h.app.sessionIndex.record('acme', 'ord-2', 2_000);
    await h.app.sessionIndex.record('acme', 'ord-3', 3_000);
    expect(ids(await list(ACME))).toEqual(['ord-3', 'ord-2', 'ord-1']);
    await submit(ACME, 'ord-1', 'again');
    expect(ids(await list(ACME))).toEqual(['ord-1', 'ord-3', 'ord-2']);
    await h.redis.del(h.engine.keys.tenantSessions('acme'));
  });

  test('pages follow nextCursor: every session exactly once, in order, ties included; bad cursors and limits are 400', async () => {
    for (const id of ['pg-a', 'pg-b', 'pg-c', 'pg-d', 'pg-e']) await submit(ACME, id);
    // pg-b, pg-c and pg-d share a score: equal scores are ordered by id, descending, across page boundaries too.
    const scores: Record<string, number> = { 'pg-a': 5_000, 'pg-b': 4_000, 'pg-c': 4_000, 'pg-d': 4_000, 'pg-e': 1_000 };
    for (const [id, at] of Object.entries(scores)) await h.app.sessionIndex.record('acme', id, at);

    const expected = ['pg-a', 'pg-d', 'pg-c', 'pg-b', 'pg-e'];
    expect(await allPages(ACME, 2)).toEqual([['pg-a', 'pg-d'], ['pg-c', 'pg-b'], ['pg-e']]);
    expect(await allPages(ACME, 1)).toEqual(expected.map((id) => [id]));
    expect(await allPages(ACME, 5)).toEqual([expected]);
    expect((await list(ACME, '?limit=100')).nextCursor).toBeNull();

    for (const query of ['?cursor=bm9wZQ', '?cursor=%25%25', '?limit=0', '?limit=101', '?limit=two', '?other=1']) {
      const res = await h.app.inject({ url: `/v1/sessions${query}`, headers: as(ACME) });
      expect({ query, status: res.statusCode }).toEqual({ query, status: 400 });
    }
    await h.redis.del(h.engine.keys.tenantSessions('acme'));
  });

  test('entries of deleted sessions, and of sessions another tenant owns, are skipped and removed; pages stay full', async () => {
    await submit(ACME, 'st-live-1');
    await submit(ACME, 'st-gone');
    await submit(ACME, 'st-live-2');
    await submit(GLOBEX, 'st-theirs');
    const key = h.engine.keys.tenantSessions('acme');
    await h.app.sessionIndex.record('acme', 'st-live-1', 1_000);
    await h.app.sessionIndex.record('acme', 'st-gone', 2_000);
    await h.app.sessionIndex.record('acme', 'st-theirs', 3_000); // an entry naming another tenant's session
    await h.app.sessionIndex.record('acme', 'st-never', 4_000); // an entry whose session never existed (or expired)
    await h.app.sessionIndex.record('acme', 'st-live-2', 500);
    const deleted = await h.app.inject({ method: 'DELETE', url: '/v1/sessions/st-gone', headers: as(ACME) });
    expect(deleted.statusCode).toBe(204);

    // One page of one: the stale entries ahead of the first live one are read past, not returned as an empty page.
    const first = await list(ACME, '?limit=1');
    expect(ids(first)).toEqual(['st-live-1']);
    expect(first.nextCursor).not.toBeNull();
    expect(await h.redis.zrange(key, 0, -1)).toEqual(['st-live-2', 'st-live-1']);
    expect(ids(await list(ACME))).toEqual(['st-live-1', 'st-live-2']);
    expect(ids(await list(GLOBEX))).toEqual(['st-theirs']);
    await h.redis.del(key, h.engine.keys.tenantSessions('globex'));
  });

  test('the list is capped (least recently active dropped) and expires after the retention period', async () => {
    const key = h.engine.keys.tenantSessions('acme');
    const small = new SessionIndex(h.engine, { cap: 3, ttlMs: 60_000 });
    for (let i = 1; i <= 5; i++) await small.record('acme', `cap-${i}`, i * 1_000);
    expect(await h.redis.zrange(key, 0, -1)).toEqual(['cap-3', 'cap-4', 'cap-5']);
    const ttl = await h.redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);

    // RETENTION_MS=0 keeps data forever: so does the list.
    await new SessionIndex(h.engine, { cap: 3, ttlMs: 0 }).record('acme', 'cap-6', 6_000);
    expect(await h.redis.pttl(key)).toBe(-1);
    expect(await h.redis.zrange(key, 0, -1)).toEqual(['cap-4', 'cap-5', 'cap-6']);

    // The app's own index: the default cap and the engine's retention (7 days by default).
    await h.app.sessionIndex.record('acme', 'cap-7');
    const appTtl = await h.redis.pttl(key);
    expect(appTtl).toBeGreaterThan(7 * 24 * 3600_000 - 60_000);
    expect(appTtl).toBeLessThanOrEqual(7 * 24 * 3600_000);
    await h.redis.del(key);
  });
});

describe('GET /v1/sessions/{id}/tasks', () => {
  test("lists the session's root tasks, newest open first; another tenant's session is 404", async () => {
    const one = await submit(ACME, 'roots-1', 'first');
    const two = await submit(ACME, 'roots-1', 'second');
    const res = await h.app.inject({ url: '/v1/sessions/roots-1/tasks', headers: as(ACME) });
    expect(res.statusCode).toBe(200);
    const tasks = res.json<{ tasks: { id: string; prompt: string; status: string; parentId: string | null }[] }>().tasks;
    expect(tasks.map((t) => t.id).sort()).toEqual([one.id, two.id].sort());
    expect(tasks.every((t) => t.parentId === null && t.status === 'queued')).toBe(true);
    expect(tasks[0]).not.toHaveProperty('tenant');

    expect((await h.app.inject({ url: '/v1/sessions/roots-1/tasks', headers: as(GLOBEX) })).statusCode).toBe(404);
    expect((await h.app.inject({ url: '/v1/sessions/roots-nope/tasks', headers: as(ACME) })).statusCode).toBe(404);
    expect((await h.app.inject({ url: '/v1/sessions/roots-1/tasks?limit=0', headers: as(ACME) })).statusCode).toBe(400);
  });
});

describe('GET /console', () => {
  test('serves the page and its files without a key, under a strict Content-Security-Policy', async () => {
    const page = await h.app.inject({ url: '/console' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['content-security-policy']).toMatch(/^default-src 'self';/);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.headers['content-security-policy']).not.toContain('unsafe');
    expect(page.body).toContain('<script type="module" src="/console/app.js">');

    for (const [file, type] of [
      ['app.js', /^text\/javascript/],
      ['sse.js', /^text\/javascript/],
      ['console.css', /^text\/css/],
    ] as const) {
      const res = await h.app.inject({ url: `/console/${file}` });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(type);
      expect(res.headers['content-security-policy']).toMatch(/^default-src 'self';/);
    }
    for (const url of ['/console/nope.js', '/console/..%2Fpackage.json', '/console/%2E%2E%2Fsrc%2Fapp.ts']) {
      expect({ url, status: (await h.app.inject({ url })).statusCode }).toEqual({ url, status: 404 });
    }
  });
});
