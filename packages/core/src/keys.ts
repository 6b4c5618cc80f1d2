/**
 * Every Redis key Baton uses is built here and nowhere else.
 *
 * All keys of one session share the hash tag `{s:<sessionId>}` so that every
 * script touching a session (lane, lease, tasks of its trees, conversations,
 * gate entries, events) runs on one Redis Cluster slot. Scripts that walk a
 * task tree build task keys from the session base (`ARGV` "base") with the
 * same suffixes as below; `lua/includes/keys.lua` mirrors `taskSuffix` etc.
 */
export class Keys {
  constructor(readonly prefix: string) {
    if (!/^[A-Za-z0-9._-]+$/.test(prefix)) throw new Error(`invalid key prefix "${prefix}"`);
  }

  /** BullMQ queue prefix: hash-tagged so that a queue (and its flows) lives in one slot. */
  get queuePrefix(): string {
    return `{${this.prefix}}`;
  }

  /** Base of every key of a session, passed to scripts that build task keys. */
  sessionBase(sessionId: string): string {
    return `${this.prefix}:{s:${sessionId}}`;
  }

  session(sessionId: string): string {
    return `${this.sessionBase(sessionId)}:session`;
  }
  lane(sessionId: string): string {
    return `${this.sessionBase(sessionId)}:lane`;
  }
  active(sessionId: string): string {
    return `${this.sessionBase(sessionId)}:active`;
  }
  parked(sessionId: string): string {
    return `${this.sessionBase(sessionId)}:parked`;
  }
  /** Monotonic counter for fencing tokens (runner tokens and gate tokens). */
  fence(sessionId: string): string {
    return `${this.sessionBase(sessionId)}:fence`;
  }
  events(sessionId: string): string {
    return `${this.sessionBase(sessionId)}:events`;
  }
  /** Root ids of the session's trees (score: expiry ms of a finished tree, +inf while open). */
  roots(sessionId: string): string {
    return `${this.sessionBase(sessionId)}:roots`;
  }
  /** Task ids whose task-index entry (outside the slot) must still follow its task's expiry or deletion. */
  unindexed(sessionId: string): string {
    return `${this.sessionBase(sessionId)}:unindexed`;
  }
  idempotency(sessionId: string, tenant: string, key: string): string {
    return `${this.sessionBase(sessionId)}:idem:${tenant}:${key}`;
  }
  task(sessionId: string, taskId: string): string {
    return `${this.sessionBase(sessionId)}:task:${taskId}`;
  }
  children(sessionId: string, taskId: string): string {
    return `${this.task(sessionId, taskId)}:children`;
  }
  conversation(sessionId: string, taskId: string): string {
    return `${this.task(sessionId, taskId)}:conv`;
  }
  gate(sessionId: string, taskId: string): string {
    return `${this.task(sessionId, taskId)}:gate`;
  }

  /** taskId -> sessionId, so that task routes need no session (outside any session slot). */
  taskIndex(taskId: string): string {
    return `${this.prefix}:taskidx:${taskId}`;
  }
  /** Sessions that may need the reconciler's attention (score: last touch, ms). */
  sessionIndex(): string {
    return `${this.prefix}:sessions`;
  }
  reconcilerLock(): string {
    return `${this.prefix}:reconciler:lock`;
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
}

/** The BullMQ queue that runs tasks. */
export const TASK_QUEUE = 'tasks';
