import { startHarness, waitForTask, type Harness } from '../test-utils/harness';

/**
 * The export of a task whose conversation was condensed (docs/design.md,
 * "Context condensing") carries the replaced versions; `GET messages` answers the live
 * one. The archive is staged in Redis as the condense-conversation script
 * leaves it (the worker side is proven in apps/worker agent/condense).
 */
const ACME = { authorization: 'Bearer acme-secret-0001' };

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ worker: true, env: { API_KEYS: 'acme:acme-secret-0001' } });
});
afterAll(async () => h.close());

test('export: archivedConversations by task id, oldest first; messages: the live conversation only', async () => {
  const res = await h.app.inject({ method: 'POST', url: '/v1/sessions/s-condensed/tasks', headers: ACME, payload: { prompt: 'hello' } });
  expect(res.statusCode).toBe(201);
  const { id } = res.json() as { id: string };
  await waitForTask(h.engine, id, ['completed']);

  const plain = (await h.app.inject({ method: 'GET', url: `/v1/tasks/${id}/export`, headers: ACME })).json();
  expect(plain.archivedConversations).toBeUndefined();

  const old = {
    version: 0,
    condensedAt: 1_700_000_000_000,
    turnOffset: 0,
    messages: [
      { role: 'system', content: 's' },
      { role: 'user', content: 'older' },
    ],
  };
  await h.redis.rpush(h.engine.keys.conversationArchive('s-condensed', id), JSON.stringify(old));
  const live = (await h.app.inject({ method: 'GET', url: `/v1/tasks/${id}/messages`, headers: ACME })).json().messages;
  const doc = (await h.app.inject({ method: 'GET', url: `/v1/tasks/${id}/export`, headers: ACME })).json();
  expect(doc.archivedConversations).toEqual({ [id]: [old] });
  expect(doc.conversations[id]).toEqual(live);
  expect(live).not.toContainEqual({ role: 'user', content: 'older' });
});
