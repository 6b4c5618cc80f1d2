import { cleanupPrefix, startApi, testPrefix, type ApiProcess } from '@baton/testkit';
import { BatonClient } from './baton-client';
import { BatonApiError, SessionQueueFullError } from './errors';

/**
 * MAX_QUEUED_ROOTS_PER_SESSION through the typed client, against the API
 * process with no worker (the first root holds the session, the rest queue).
 */
const KEY = 'acme-secret-0001';
let prefix: string;
let api: ApiProcess;
let client: BatonClient;

beforeAll(async () => {
  prefix = testPrefix('client-limits');
  api = await startApi(prefix, { API_KEYS: `acme:${KEY}`, MAX_QUEUED_ROOTS_PER_SESSION: '2' });
  client = new BatonClient({ baseUrl: api.url, apiKey: KEY });
});
afterAll(async () => {
  await api?.stop();
  await cleanupPrefix(prefix);
});

it('a submission past a full lane throws SessionQueueFullError (429) with the limit; an interrupt still passes', async () => {
  await client.submit('s-full', { prompt: 'holds the session' });
  await client.submit('s-full', { prompt: 'queued 1' });
  await client.submit('s-full', { prompt: 'queued 2' });
  const err = await client.submit('s-full', { prompt: 'one too many' }).catch((e: unknown) => e);
  expect(err).toBeInstanceOf(SessionQueueFullError);
  expect(err).toBeInstanceOf(BatonApiError);
  const full = err as SessionQueueFullError;
  expect(full).toMatchObject({ status: 429, code: 'SESSION_QUEUE_FULL', limit: 2, retryAfterSeconds: null, type: 'urn:baton:problem:session-queue-full' });
  expect(full.detail).toContain('MAX_QUEUED_ROOTS_PER_SESSION');
  expect((await client.getSession('s-full')).queuedTaskIds).toHaveLength(2);

  const interrupt = await client.submit('s-full', { prompt: 'replace them', onBusy: 'interrupt' });
  expect(interrupt.task.status).toBe('queued');
});
