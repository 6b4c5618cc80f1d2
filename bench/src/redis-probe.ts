/**
 * What the benchmarks read from Redis and from the ioredis client: server
 * `INFO commandstats` deltas (every command Redis ran, including those run
 * inside Lua scripts), `used_memory`, versions, and a client-side count of the
 * commands this process sent (patched `Redis.prototype.sendCommand`: one
 * count per command written, MULTI/EXEC included; commands inside a script
 * are not seen here, only its EVALSHA).
 */
import { Redis } from 'ioredis';

export type CommandCounts = Record<string, number>;

export async function commandStats(redis: Redis): Promise<CommandCounts> {
  const text = await redis.info('commandstats');
  const out: CommandCounts = {};
  for (const line of text.split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function diffCounts(after: CommandCounts, before: CommandCounts): CommandCounts {
  const out: CommandCounts = {};
  for (const [name, n] of Object.entries(after)) {
    const d = n - (before[name] ?? 0);
    if (d > 0) out[name] = d;
  }
  return out;
}

export function total(counts: CommandCounts): number {
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

export async function usedMemory(redis: Redis): Promise<number> {
  const text = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(text)?.[1] ?? Number.NaN);
}

/** Redis server CPU seconds (user + sys, main thread and children). */
export async function redisCpuSeconds(redis: Redis): Promise<number> {
  const text = await redis.info('cpu');
  const get = (name: string) => Number(new RegExp(`${name}:([0-9.]+)`).exec(text)?.[1] ?? 0);
  return get('used_cpu_user') + get('used_cpu_sys');
}

export async function redisVersion(redis: Redis): Promise<string> {
  const text = await redis.info('server');
  return /redis_version:(\S+)/.exec(text)?.[1] ?? 'unknown';
}

/** Client-side command counter for this process (all ioredis connections, BullMQ's included). */
export class ClientCommandCounter {
  private static installed = false;
  private static current: CommandCounts | null = null;

  static install(): void {
    if (ClientCommandCounter.installed) return;
    ClientCommandCounter.installed = true;
    const proto = Redis.prototype as unknown as { sendCommand: (command: { name: string }, stream?: unknown) => unknown };
    const original = proto.sendCommand;
    proto.sendCommand = function patched(this: unknown, command: { name: string }, stream?: unknown) {
      const counts = ClientCommandCounter.current;
      if (counts) counts[command.name] = (counts[command.name] ?? 0) + 1;
      return original.call(this, command, stream);
    };
  }

  /** Starts a fresh count; returns a function that stops it and gives the counts. */
  static start(): () => CommandCounts {
    ClientCommandCounter.install();
    const counts: CommandCounts = {};
    ClientCommandCounter.current = counts;
    return () => {
      if (ClientCommandCounter.current === counts) ClientCommandCounter.current = null;
      return counts;
    };
  }
}

/** Deletes keys matching a pattern (used for baselines' own prefixes). */
export async function deletePattern(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}
