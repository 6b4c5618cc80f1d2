/**
 * What the `sdk` benchmark checks besides speed, against the testkit fake
 * (real HTTP, in this process):
 * - Idempotency-Key per attempt: the fake answers a session's first request
 *   503 and its second 200. Baton's client retries in its own loop; an SDK
 *   (retries off) is retried by a loop of ours around it, as Baton would,
 *   with the key handed to it either as a header or as its `idempotencyKey`
 *   request option; and once with the SDK's own retries on. The fake records
 *   the key (and the SDK's retry-count header) each attempt carried.
 * - Abort: the fake never answers; once the request has arrived the signal
 *   fires (as on fence loss). Measured: ms from abort() to the call's
 *   rejection, and to the fake seeing the connection go.
 */
import { startFakeProvider, type FakeProvider, type FakeRequest } from '@baton/testkit';
import { loadClient, type ClientName, type ClientOptions } from './sdk-clients';
import { nowMs, percentile } from './stats';

export interface KeyCheck {
  id: KeyCaseId;
  client: ClientName;
  /** The Idempotency-Key header of each attempt the fake received (null: none sent). */
  keys: (string | null)[];
  /** X-Stainless-Retry-Count of each attempt (SDKs only). */
  retryCounts: (string | null)[];
  /** The call ended with the 200. */
  succeeded: boolean;
}

export interface AbortCheck {
  client: ClientName;
  /** ms from abort() to the call's rejection: p50 / max. */
  rejectP50Ms: number;
  rejectMaxMs: number;
  /** ms from abort() until the fake saw the request's connection close: p50 / max (NaN: not within 2 s). */
  closedP50Ms: number;
  closedMaxMs: number;
  /** What the call rejected with (constructor name; `reason` when it is the signal's reason). */
  rejection: string;
}

export type KeyCaseId = 'own-loop' | 'sdk-headers' | 'sdk-option' | 'sdk-retries';

interface KeyCase {
  id: KeyCaseId;
  client: ClientName;
  /** How the attempts are made, in words (for the reader of this table). */
  how: string;
  options: ClientOptions;
  /** Attempts our loop makes (1: the client's own retries, if any, are all there is). */
  ourAttempts: number;
}

const KEY_CASES: KeyCase[] = [
  { id: 'own-loop', client: 'baton-openai', how: 'its own retry loop', options: { retries: 2 }, ourAttempts: 1 },
  { id: 'sdk-headers', client: 'sdk-openai', how: 'maxRetries 0, our loop, key in `headers`', options: { retries: 0, keyVia: 'headers' }, ourAttempts: 2 },
  { id: 'sdk-option', client: 'sdk-openai', how: 'maxRetries 0, our loop, `idempotencyKey` option', options: { retries: 0, keyVia: 'option' }, ourAttempts: 2 },
  { id: 'sdk-retries', client: 'sdk-openai', how: 'maxRetries 1 (SDK retries), key in `headers`', options: { retries: 1, keyVia: 'headers' }, ourAttempts: 1 },
  { id: 'own-loop', client: 'baton-anthropic', how: 'its own retry loop', options: { retries: 2 }, ourAttempts: 1 },
  { id: 'sdk-headers', client: 'sdk-anthropic', how: 'maxRetries 0, our loop, key in `headers`', options: { retries: 0, keyVia: 'headers' }, ourAttempts: 2 },
  {
    id: 'sdk-option',
    client: 'sdk-anthropic',
    how: 'maxRetries 0, our loop, `idempotencyKey` option',
    options: { retries: 0, keyVia: 'option' },
    ourAttempts: 2,
  },
  {
    id: 'sdk-retries',
    client: 'sdk-anthropic',
    how: 'maxRetries 1 (SDK retries), key in `headers`',
    options: { retries: 1, keyVia: 'headers' },
    ourAttempts: 1,
  },
];

const ABORT_ROUNDS = 20;
const CLOSE_WAIT_MS = 2000;

/** Sessions named `s-retry...` get 503 on their first request; `s-abort...` are never answered. */
function contractFake(): Promise<FakeProvider> {
  const seen = new Map<string, number>();
  return startFakeProvider({
    policy: (request) => {
      if (request.sessionId.startsWith('s-abort')) return 'hang';
      if (!request.sessionId.startsWith('s-retry')) return undefined;
      const n = seen.get(request.sessionId) ?? 0;
      seen.set(request.sessionId, n + 1);
      return n === 0 ? { status: 503 } : undefined;
    },
  });
}

function header(request: FakeRequest, name: string): string | null {
  const value = request.headers[name];
  return typeof value === 'string' ? value : null;
}

async function keyCheck(fake: FakeProvider, c: KeyCase, index: number): Promise<KeyCheck> {
  const client = await loadClient(c.client, fake.url, c.options);
  // sdk-clients.ts sends `x-baton-session-id: s-<key before ':'>`: the fake groups the attempts by it.
  const key = `retry${index}-${c.client}:1`;
  const session = `s-${key.split(':')[0]}`;
  const signal = new AbortController().signal;
  let succeeded = false;
  try {
    for (let attempt = 1; attempt <= c.ourAttempts; attempt++) {
      try {
        await client.call(key, signal);
        succeeded = true;
        break;
      } catch (err) {
        // Baton's loop retries 503 (retry-policy.ts); so does ours around the SDK.
        if ((err as { status?: unknown }).status !== 503) throw err;
      }
    }
  } finally {
    client.close();
  }
  const attempts = fake.requests.filter((r) => r.sessionId === session);
  return {
    id: c.id,
    client: c.client,
    keys: attempts.map((r) => r.key),
    retryCounts: attempts.map((r) => header(r, 'x-stainless-retry-count')),
    succeeded,
  };
}

async function abortCheck(fake: FakeProvider, name: ClientName): Promise<AbortCheck> {
  const client = await loadClient(name, fake.url, { retries: name.startsWith('baton') ? 3 : 0 });
  const reject: number[] = [];
  const closed: number[] = [];
  let rejection = '';
  try {
    for (let i = 0; i < ABORT_ROUNDS; i++) {
      const key = `abort${i}-${name}:1`;
      const controller = new AbortController();
      const reason = new Error('lease lost');
      let rejectedAt = Number.NaN;
      const call = client.call(key, controller.signal).then(
        () => {
          throw new Error(`${name}: a request the fake never answers resolved`);
        },
        (err: unknown) => {
          rejectedAt = nowMs();
          rejection = err === reason ? 'reason' : ((err as Error).constructor?.name ?? typeof err);
        },
      );
      const arrived = await fake.nextRequest((r) => r.key === key);
      const serverClosed = new Promise<number>((resolve) => {
        if (arrived.signal.aborted) return resolve(nowMs());
        const timer = setTimeout(() => resolve(Number.NaN), CLOSE_WAIT_MS);
        arrived.signal.addEventListener('abort', () => (clearTimeout(timer), resolve(nowMs())), { once: true });
      });
      const t0 = nowMs();
      controller.abort(reason);
      await call;
      reject.push(rejectedAt - t0);
      closed.push((await serverClosed) - t0);
    }
  } finally {
    client.close();
  }
  const closedSeen = closed.filter(Number.isFinite);
  return {
    client: name,
    rejectP50Ms: percentile(reject, 50),
    rejectMaxMs: Math.max(...reject),
    closedP50Ms: closedSeen.length === closed.length ? percentile(closed, 50) : Number.NaN,
    closedMaxMs: closedSeen.length === closed.length ? Math.max(...closed) : Number.NaN,
    rejection,
  };
}

export async function contractChecks(): Promise<{ keys: KeyCheck[]; aborts: AbortCheck[] }> {
  const fake = await contractFake();
  try {
    const keys: KeyCheck[] = [];
    for (const [i, c] of KEY_CASES.entries()) keys.push(await keyCheck(fake, c, i));
    const aborts: AbortCheck[] = [];
    for (const name of ['baton-openai', 'sdk-openai', 'baton-anthropic', 'sdk-anthropic'] as const) aborts.push(await abortCheck(fake, name));
    return { keys, aborts };
  } finally {
    await fake.close();
  }
}
