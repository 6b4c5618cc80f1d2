import { Keys } from '@baton/core';
import { Redis } from 'ioredis';

export interface StoredTask {
  id: string;
  sessionId: string;
  prompt: string;
  status: string;
  /** When the submit script ran (Redis time, ms). */
  createdAt: number;
}

/**
 * Every task hash under a prefix, read straight from Redis (SCAN: a test
 * tool on a private server, never a request path). Used to prove that a
 * refused submission left no task behind.
 */
export async function storedTasks(redisUrl: string, prefix: string): Promise<StoredTask[]> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const pattern = `${new Keys(prefix).sessionBase('*')}:task:*`;
    const found: StoredTask[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      // Task hashes end in `:task:<id>`; children lists, conversations and gate keys have a suffix.
      const taskKeys = keys.filter((k) => !k.slice(k.lastIndexOf(':task:') + 6).includes(':'));
      const rows = await Promise.all(taskKeys.map((k) => redis.hmget(k, 'id', 'sessionId', 'prompt', 'status', 'createdAt')));
      for (const [id, sessionId, prompt, status, createdAt] of rows) {
        if (id && sessionId && typeof prompt === 'string' && status) found.push({ id, sessionId, prompt, status, createdAt: Number(createdAt) });
      }
    } while (cursor !== '0');
    return found;
  } finally {
    redis.disconnect();
  }
}
