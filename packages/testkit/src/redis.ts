/**
 * Helpers for tests against real Redis: a random prefix per test file,
 * clean-up of every key of that prefix, deferred promises and barriers.
 * Shared by every package's tests (import from @baton/testkit).
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as wait } from 'node:timers/promises';
import { Cluster, Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** The tests run against a Redis Cluster (the cluster proof runs the engine's suites there). */
export const ON_CLUSTER = REDIS_URL.startsWith('redis+cluster://');

export function testPrefix(name = 't'): string {
  return `bt-${name}-${randomBytes(4).toString('hex')}`;
}

/** Deletes every key of a prefix: Baton's (`prefix:*`) and BullMQ's (`{prefix}:*`, and queue shards `{prefix:q<i>.<salt>}:*`). */
export async function cleanupPrefix(prefix: string, url = REDIS_URL): Promise<number> {
  if (url.startsWith('redis+cluster://')) return cleanupClusterPrefix(prefix, url);
  const redis = new Redis(url);
  try {
    return await unlinkMatching(redis, prefix, (keys) => redis.unlink(...keys));
  } finally {
    redis.disconnect();
  }
}

/**
 * The same on a Redis Cluster (`redis+cluster://host:port,...`, the form
 * @baton/core's `connectionFromUrl` accepts): every master is scanned, and keys
 * are removed one by one (one UNLINK may not span hash slots).
 */
async function cleanupClusterPrefix(prefix: string, url: string): Promise<number> {
  const seeds = url
    .slice('redis+cluster://'.length)
    .split(',')
    .filter(Boolean)
    .map((hp) => ({ host: hp.split(':')[0] || '127.0.0.1', port: Number(hp.split(':')[1] || 6379) }));
  const cluster = new Cluster(seeds);
  try {
    await new Promise<void>((resolve, reject) => {
      cluster.once('ready', () => resolve());
      cluster.once('error', reject);
    });
    let removed = 0;
    for (const node of cluster.nodes('master')) {
      removed += await unlinkMatching(node, prefix, async (keys) => {
        const results = await Promise.all(keys.map((k) => node.unlink(k)));
        return results.reduce((a, b) => a + b, 0);
      });
    }
    return removed;
  } finally {
    cluster.disconnect();
  }
}

async function unlinkMatching(redis: Redis, prefix: string, unlink: (keys: string[]) => Promise<number>): Promise<number> {
  let removed = 0;
  for (const pattern of [`${prefix}:*`, `{${prefix}}:*`, `{${prefix}:q*`]) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) removed += await unlink(keys);
    } while (cursor !== '0');
  }
  return removed;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(err: unknown): void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Resolves once `n` parties have arrived. */
export function barrier(n: number): { arrive(): Promise<void>; reached: Promise<void> } {
  const done = deferred();
  let count = 0;
  return {
    reached: done.promise,
    arrive() {
      count++;
      if (count >= n) done.resolve();
      return done.promise;
    },
  };
}

/** Resolves when `predicate` holds, re-checking whenever `subscribe` signals a change. */
export async function waitUntil(predicate: () => Promise<boolean> | boolean, timeoutMs = 20_000, stepMs = 20): Promise<void> {
  // A bounded re-check loop for black-box state (process tests); unit tests wait on events instead.
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`condition not reached within ${timeoutMs} ms`);
    await wait(stepMs);
  }
}
