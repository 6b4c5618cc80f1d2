/**
 * Every Redis key Baton uses is built here and nowhere else, and the Lua
 * side gets its key names from here too: `luaKeySchema()` generates the Lua
 * constants and builders that the script loader inlines into every script
 * that builds keys itself (through includes/common, which has
 * `--- @include "generated/keys"`), so no key name is spelled twice. Scripts
 * given all their keys as KEYS need none of it.
 *
 * All keys of one session share the hash tag `{s:<sessionId>}` so that every
 * script touching a session (lane, lease, tasks of its trees, conversations,
 * gate entries, events) runs on one Redis Cluster slot. Scripts that walk a
 * task tree or expire a whole session build those keys from the session base
 * (`sessionBase`, passed as an ARGV) with the generated builders.
 */

import calculateSlot from 'cluster-key-slot';

/** Keys of a session: `<base>:<suffix>`. */
export const SessionKey = {
  session: 'session',
  lane: 'lane',
  active: 'active',
  parked: 'parked',
  fence: 'fence',
  events: 'events',
  roots: 'roots',
  unindexed: 'unindexed',
  /** Deadlines of the budget reservations of turns in flight (zset, budget-reserve-5): the next reserve drops those a dead worker left. */
  reservations: 'resv',
  /** Usage roll-ups recorded but not yet applied to the tenant and model totals (hash, record-usage-6). */
  rollups: 'rollups',
} as const;
export type SessionKeyName = keyof typeof SessionKey;

/** The segment before a task id: `<base>:task:<id>`. */
const TASK_SEGMENT = 'task';

/** Keys of a task besides its hash: `<base>:task:<id>:<suffix>`. */
export const TaskKey = { children: 'children', conv: 'conv', gate: 'gate', convArchive: 'conv-archive' } as const;

/** Fields of the stats hash (`Keys.stats`): store/task-stats.ts writes and reads them (the metrics read them through it). */
export const statsField = {
  created: (kind: 'root' | 'child') => `created:${kind}`,
  ended: (status: string) => `ended:${status}`,
};

/**
 * The Lua half of the schema: `SESSION_KEYS` (every key of a session, for
 * expiry and persistence), `SESSION_KEY` and `TASK_KEY` (name -> suffix),
 * `sessionKey(base, name)`, `taskKey(base, id)`, one builder per task suffix
 * (`childrenKey`, `convKey`, `gateKey`, `convArchiveKey`) and
 * `taskSubKey(taskKey, name)` for a script that only holds a task key.
 */
export function luaKeySchema(): string {
  const names = Object.values(SessionKey)
    .map((s) => `'${s}'`)
    .join(', ');
  const sessionFields = Object.entries(SessionKey)
    .map(([k, v]) => `${k} = '${v}'`)
    .join(', ');
  return [
    '-- Generated from keys.ts (luaKeySchema): do not edit key names here.',
    `local SESSION_KEYS = { ${names} }`,
    `local SESSION_KEY = { ${sessionFields} }`,
    "local function sessionKey(base, name) return base .. ':' .. name end",
    `local function taskKey(base, id) return base .. ':${TASK_SEGMENT}:' .. id end`,
    "local function taskSubKey(tk, name) return tk .. ':' .. name end",
    `local function childrenKey(base, id) return taskKey(base, id) .. ':${TaskKey.children}' end`,
    `local function convKey(base, id) return taskKey(base, id) .. ':${TaskKey.conv}' end`,
    `local function gateKey(base, id) return taskKey(base, id) .. ':${TaskKey.gate}' end`,
    `local function convArchiveKey(base, id) return taskKey(base, id) .. ':${TaskKey.convArchive}' end`,
    `local TASK_KEY = { children = '${TaskKey.children}', conv = '${TaskKey.conv}', gate = '${TaskKey.gate}', convArchive = '${TaskKey.convArchive}' }`,
    '',
  ].join('\n');
}

export class Keys {
  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9._-]+$/.test(prefix)) throw new Error(`invalid key prefix "${prefix}"`);
  }

  /** BullMQ queue prefix of shard 0 (the only queue when QUEUE_SHARDS=1): hash-tagged so that a queue (and its flows) lives in one slot. */
  get queuePrefix(): string {
    return `{${this.prefix}}`;
  }

  /**
   * BullMQ queue prefix of queue shard `shard` of `shards` (QUEUE_SHARDS). Shard 0 is
   * always `{<prefix>}`, the queue of a one-shard deployment, so that one keeps its keys.
   * Shard i > 0 gets its own hash tag `{<prefix>:q<i>.<salt>}`, the salt being the
   * smallest number that puts the tag's slot at or just after `slot(shard 0) + i *
   * 16384 / shards`: the shards' slots are evenly spaced over the slot space, so a
   * cluster whose M masters own equal contiguous slot ranges (what `redis-cli --cluster
   * create` makes) carries `shards / M` queues on each master when M divides `shards`.
   * Random tags would not: 6 random slots fall 2/2/2 on 3 masters only 12% of the time.
   */
  queuePrefixOf(shard: number, shards: number): string {
    if (!Number.isInteger(shards) || shards < 1 || !Number.isInteger(shard) || shard < 0 || shard >= shards) {
      throw new Error(`invalid queue shard ${shard} of ${shards}`);
    }
    if (shard === 0) return this.queuePrefix;
    const target = (calculateSlot(this.queuePrefix) + Math.round((shard * SLOTS) / shards)) % SLOTS;
    // Within 1/64 of a master's share past the target; CRC16 is uniform, so a few hundred tries at most.
    const window = Math.max(1, Math.floor(SLOTS / shards / 64));
    for (let salt = 0; ; salt++) {
      const tag = `{${this.prefix}:q${shard}.${salt}}`;
      if ((calculateSlot(tag) - target + SLOTS) % SLOTS < window) return tag;
    }
  }

  /** Base of every key of a session, passed to scripts that build task keys. */
  sessionBase(sessionId: string): string {
    return `${this.prefix}:{s:${sessionId}}`;
  }

  /** A key of the session (`SessionKey`). */
  ofSession(sessionId: string, name: SessionKeyName): string {
    return `${this.sessionBase(sessionId)}:${SessionKey[name]}`;
  }

  session(sessionId: string): string {
    return this.ofSession(sessionId, 'session');
  }
  lane(sessionId: string): string {
    return this.ofSession(sessionId, 'lane');
  }
  active(sessionId: string): string {
    return this.ofSession(sessionId, 'active');
  }
  parked(sessionId: string): string {
    return this.ofSession(sessionId, 'parked');
  }
  /** Monotonic counter for fencing tokens (runner tokens and gate tokens). */
  fence(sessionId: string): string {
    return this.ofSession(sessionId, 'fence');
  }
  events(sessionId: string): string {
    return this.ofSession(sessionId, 'events');
  }
  /** Root ids of the session's trees (score: expiry ms of a finished tree, +inf while open). */
  roots(sessionId: string): string {
    return this.ofSession(sessionId, 'roots');
  }
  /** Task ids whose task-index entry (outside the slot) must still follow its task's expiry or deletion. */
  unindexed(sessionId: string): string {
    return this.ofSession(sessionId, 'unindexed');
  }
  idempotency(sessionId: string, tenant: string, key: string): string {
    return `${this.sessionBase(sessionId)}:idem:${tenant}:${key}`;
  }
  task(sessionId: string, taskId: string): string {
    return `${this.sessionBase(sessionId)}:${TASK_SEGMENT}:${taskId}`;
  }
  children(sessionId: string, taskId: string): string {
    return `${this.task(sessionId, taskId)}:${TaskKey.children}`;
  }
  conversation(sessionId: string, taskId: string): string {
    return `${this.task(sessionId, taskId)}:${TaskKey.conv}`;
  }
  gate(sessionId: string, taskId: string): string {
    return `${this.task(sessionId, taskId)}:${TaskKey.gate}`;
  }
  /**
   * The versions a condense replaced (a list, oldest first, one JSON document per version:
   * `{version, condensedAt, turnOffset, messages}`), kept for the export; expires and is deleted with the task.
   */
  conversationArchive(sessionId: string, taskId: string): string {
    return `${this.task(sessionId, taskId)}:${TaskKey.convArchive}`;
  }

  /** taskId -> sessionId, so that task routes need no session (outside any session slot). */
  taskIndex(taskId: string): string {
    return `${this.prefix}:taskidx:${taskId}`;
  }
  /** Sessions that may need the reconciler's attention (score: last touch, ms). */
  sessionIndex(): string {
    return `${this.prefix}:sessions`;
  }
  /**
   * A tenant's sessions for listing (score: ms of the last root submitted to it), written by the API
   * after a submission; bounded and expiring, entries of deleted or expired sessions are removed lazily.
   */
  tenantSessions(tenant: string): string {
    return `${this.prefix}:tenant:${tenant}:sessions`;
  }
  /** The reconciler's fenced lock and its fence counter (one slot: lock-acquire touches both). */
  reconcilerLock(): { lock: string; fence: string } {
    return { lock: `${this.prefix}:{reconciler}:lock`, fence: `${this.prefix}:{reconciler}:fence` };
  }
  cancelChannel(): string {
    return `${this.prefix}:chan:cancel`;
  }
  gateChannel(): string {
    return `${this.prefix}:chan:gate`;
  }
  /**
   * Prefix of the API's rate-limit counters (one expiring key per tenant or
   * client address and window, shared by every API replica).
   */
  rateLimitPrefix(): string {
    return `${this.prefix}:ratelimit:`;
  }
  /**
   * The shared provider limiter of one scope (`<provider>:<short hash of the API key>:<model>`):
   * a hash (`until`, `left`, `limit`, `window`) that every worker reads before a model request
   * and feeds with the answer's rate-limit headers. Its own slot; expires shortly after the hold.
   */
  providerLimit(scope: string): string {
    return `${this.prefix}:{plim:${scope}}`;
  }
  /**
   * A tenant's usage of one UTC day (`YYYY-MM-DD`): tokens, cost, turns and the
   * budget reservations of turns in flight (tenant-reserve-3, tenant-release-2, tenant-rollup-4).
   * Hash-tagged per tenant; expires (TENANT_USAGE_TTL_S) so the history is bounded.
   */
  tenantUsageDay(tenant: string, day: string): string {
    return `${this.tenantUsageDayBase(tenant)}${day}`;
  }
  /** `tenantUsageDay` without the day: scripts that settle a reservation on the day it was made append it. */
  tenantUsageDayBase(tenant: string): string {
    return `${this.prefix}:{t:${tenant}}:usage:`;
  }
  /** A tenant's budget reservations of turns in flight: by id (hash) and by deadline (zset); tenant-reserve-3. */
  tenantReservations(tenant: string): { byId: string; deadlines: string } {
    return { byId: `${this.prefix}:{t:${tenant}}:resv`, deadlines: `${this.prefix}:{t:${tenant}}:resv:until` };
  }
  /**
   * Where a target remembers the roll-ups it applied (tenant-rollup-4): a hash per UTC day of
   * the roll-up (the day it was recorded on, carried in the roll-up itself) and bucket of its
   * id, one empty field per roll-up id, expiring (ROLLUP_MARKER_TTL_S after the last
   * application). A given id always maps to the same key, whenever and however often it is
   * applied, so the field alone refuses a second application. The buckets keep each hash
   * packed (a listpack: ~40 bytes a field, where a string key per roll-up cost ~150) up to
   * ROLLED_BUCKETS x 512 (hash-max-listpack-entries) turns a day in one slot; past that a
   * bucket is a hash table, ~100 bytes a field, still less than a key.
   */
  tenantRolled(tenant: string, day: string, rollupId: string): string {
    return `${this.prefix}:{t:${tenant}}:rolled:${day}:${rolledBucket(rollupId)}`;
  }
  /**
   * The same for the per-model totals (model-rollup-2). Its hash tag is the totals key's
   * whole name, so both share a slot without renaming the totals key.
   */
  modelRolled(day: string, rollupId: string): string {
    return `${this.prefix}:{${this.usageByModel()}}:rolled:${day}:${rolledBucket(rollupId)}`;
  }
  /**
   * Token and cost totals per model (fields `<model>|in|out|cached|turns|cost|unpriced`), for the
   * metrics' counters by model: one small hash, bounded by the number of models.
   */
  usageByModel(): string {
    return `${this.prefix}:usage:models`;
  }
  /** Totals kept as work happens (tasks created and ended), so that a metrics scrape reads one hash. */
  stats(): string {
    return `${this.prefix}:stats`;
  }
  /**
   * The mode catalogue workers publish at start (slugs, names, whenToUse; one
   * JSON string), which the API validates submitted modes against.
   */
  modeCatalog(): string {
    return `${this.prefix}:modes`;
  }
  /** Pattern matching every key of this prefix (test clean-up, tooling). */
  everything(): string {
    return `${this.prefix}:*`;
  }

  /**
   * The queue shard count the deployment runs with (a number), written by the first
   * process to start: a process started with another QUEUE_SHARDS is refused while
   * any shard holds work (queue-shard-guard.ts). Its own slot.
   */
  queueShardsConfig(): string {
    return `${this.prefix}:{config}:queue-shards`;
  }
}

/**
 * Buckets of a day's roll-up markers (`Keys.tenantRolled`). Part of every marker's key:
 * changing it moves every id to another key, so markers written before the change no
 * longer refuse a second application of their roll-up.
 */
export const ROLLED_BUCKETS = 256;

/** The bucket of a roll-up id: FNV-1a (32 bits) of its UTF-16 code units, modulo ROLLED_BUCKETS. Stable across processes and versions. */
export function rolledBucket(rollupId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < rollupId.length; i++) h = Math.imul(h ^ rollupId.charCodeAt(i), 0x01000193);
  return (h >>> 0) % ROLLED_BUCKETS;
}

/** Redis Cluster hash slots. */
const SLOTS = 16384;

/** The BullMQ queue name that runs tasks (in every shard: shards differ by prefix). */
export const TASK_QUEUE = 'tasks';
