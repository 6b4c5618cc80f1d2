/**
 * What a Redis holds, for the soak benchmark: `used_memory` and the key count
 * (DBSIZE: the soak runs on a private redis-server, so every key is ours),
 * sampled in the background for the peak, and, once at the end, every key
 * classified as *scoped* (its name carries a session or a task: it must
 * expire) or *fixed* (one per queue or prefix, whatever the load), with the
 * members of fixed collections that still name a task or a session.
 *
 * The full SCAN is only for a private server at rest; never on a shared one.
 */
import type { Redis } from 'ioredis';
import { usedMemory } from './redis-probe';

export interface Footprint {
  usedMemory: number;
  keys: number;
}

export async function footprint(redis: Redis): Promise<Footprint> {
  const [memory, keys] = await Promise.all([usedMemory(redis), redis.dbsize()]);
  return { usedMemory: memory, keys };
}

/** Samples the footprint every `intervalMs` until stopped; keeps the maxima. */
export class PeakSampler {
  private peak: Footprint = { usedMemory: 0, keys: 0 };
  private stopped = false;
  private readonly loop: Promise<void>;

  constructor(
    private readonly redis: Redis,
    intervalMs: number,
  ) {
    this.loop = (async () => {
      while (!this.stopped) {
        this.observe(await footprint(this.redis));
        await new Promise((r) => setTimeout(r, intervalMs));
      }
    })();
  }

  observe(f: Footprint): void {
    this.peak = { usedMemory: Math.max(this.peak.usedMemory, f.usedMemory), keys: Math.max(this.peak.keys, f.keys) };
  }

  async stop(): Promise<Footprint> {
    this.stopped = true;
    await this.loop;
    this.observe(await footprint(this.redis));
    return this.peak;
  }
}

export interface KeyInfo {
  key: string;
  type: string;
  /** MEMORY USAGE (bytes, with the key's overhead). */
  bytes: number;
  /** Elements of a collection (0 for a string). */
  length: number;
  /** Elements of a set, sorted set or list that name a task or a session of the run. */
  workMembers: number;
}

export interface Inventory {
  scoped: KeyInfo[];
  fixed: KeyInfo[];
}

/** Task ids (`t_` + 32 hex, and subtask ids built from them) or the run's session ids. */
export function namesWork(text: string, sessionPrefix: string): boolean {
  return /t_[0-9a-f]{32}/.test(text) || text.includes(`{s:${sessionPrefix}`) || text.startsWith(sessionPrefix);
}

const LENGTH: Record<string, string | undefined> = { zset: 'zcard', set: 'scard', list: 'llen', hash: 'hlen', stream: 'xlen' };

async function describe(redis: Redis, key: string, sessionPrefix: string): Promise<KeyInfo> {
  const type = await redis.type(key);
  const bytes = Number((await redis.call('memory', 'usage', key, 'samples', '0')) ?? 0);
  const command = LENGTH[type];
  const length = command ? Number(await redis.call(command, key)) : 0;
  let members: string[] = [];
  if (type === 'zset') members = await redis.zrange(key, 0, 9999);
  else if (type === 'set') members = (await redis.sscan(key, '0', 'COUNT', 10_000))[1];
  else if (type === 'list') members = await redis.lrange(key, 0, 9999);
  return { key, type, bytes, length, workMembers: members.filter((m) => namesWork(m, sessionPrefix)).length };
}

/** Every key of the (private) server, classified. */
export async function inventory(redis: Redis, sessionPrefix: string): Promise<Inventory> {
  const out: Inventory = { scoped: [], fixed: [] };
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      if (namesWork(key, sessionPrefix)) out.scoped.push({ key, type: '', bytes: 0, length: 0, workMembers: 0 });
      else out.fixed.push(await describe(redis, key, sessionPrefix));
    }
  } while (cursor !== '0');
  out.fixed.sort((a, b) => a.key.localeCompare(b.key));
  return out;
}

/** Key names with ids replaced, counted: `soak:{s:*}:task:t_*:conv x 120`. */
export function shapes(keys: string[]): string[] {
  const counts = new Map<string, number>();
  for (const key of keys) {
    const shape = key.replace(/\{s:[^}]*\}/g, '{s:*}').replace(/t_[0-9a-f]{32}(\.[0-9.]+)?/g, 't_*');
    counts.set(shape, (counts.get(shape) ?? 0) + 1);
  }
  return [...counts.entries()].sort((a, b) => b[1] - a[1]).map(([shape, n]) => `${shape} x ${n}`);
}
