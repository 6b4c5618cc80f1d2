/**
 * Reads what Redis holds for a session, for the lifecycle tests: every key
 * of the session's slot (SCAN on each master, so keys nobody expected show
 * up too), the task-index entries and the BullMQ job hashes of given tasks.
 */
import { Cluster } from 'ioredis';
import type { Engine } from '../engine';

export async function scanSession(engine: Engine, sessionId: string): Promise<string[]> {
  const redis = engine.redis;
  const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${engine.keys.sessionBase(sessionId)}:*`, 'COUNT', 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== '0');
  }
  return found.sort();
}

export const jobKey = (engine: Engine, taskId: string): string => `${engine.keys.queuePrefix}:tasks:${taskId}`;

/** PTTL of each key (-2 missing, -1 no expiry). */
export async function pttls(engine: Engine, keys: string[]): Promise<Record<string, number>> {
  const values = await Promise.all(keys.map((k) => engine.redis.pttl(k)));
  return Object.fromEntries(keys.map((k, i) => [k, values[i]!]));
}

/** How many of the keys exist. */
export async function existing(engine: Engine, keys: string[]): Promise<string[]> {
  const flags = await Promise.all(keys.map((k) => engine.redis.exists(k)));
  return keys.filter((_, i) => flags[i] === 1);
}
