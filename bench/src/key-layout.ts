/**
 * Where a prefix's Redis memory goes, by key shape: every key under the
 * prefix (SCAN MATCH, so a shared Redis is fine) is classified by its name
 * with the ids replaced (`<s>` session, `<t>` task, `<n>` number) and its
 * type, and `MEMORY USAGE` is summed per class (pipelined, in batches).
 * The bench prints the heaviest classes per session, which is the key layout
 * the memory targets are about.
 */
import type { Redis } from 'ioredis';

export interface KeyClass {
  shape: string;
  type: string;
  keys: number;
  bytes: number;
}

export function keyShape(key: string, sessionPattern: RegExp): string {
  return key
    .replace(sessionPattern, '<s>')
    .replace(/t_[A-Za-z0-9_-]{6,}/g, '<t>')
    .replace(/\d+/g, '<n>');
}

export async function keyLayout(redis: Redis, prefix: string, sessionPattern: RegExp): Promise<KeyClass[]> {
  const classes = new Map<string, KeyClass>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length === 0) continue;
    const p = redis.pipeline();
    for (const key of keys) p.memory('USAGE', key).type(key);
    const replies = (await p.exec())!;
    keys.forEach((key, i) => {
      const bytes = Number(replies[2 * i]![1] ?? 0);
      const type = String(replies[2 * i + 1]![1]);
      const shape = keyShape(key, sessionPattern);
      const id = `${shape} ${type}`;
      const c = classes.get(id) ?? { shape, type, keys: 0, bytes: 0 };
      c.keys++;
      c.bytes += bytes;
      classes.set(id, c);
    });
  } while (cursor !== '0');
  return [...classes.values()].sort((a, b) => b.bytes - a.bytes);
}
