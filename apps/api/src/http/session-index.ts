import { setTimeout } from 'node:timers/promises';
import type { Engine, SessionStatus } from '@baton/core';
import { ApiError } from './error-catalog';

/**
 * How long recorded activity waits for more before it is written. A transaction is not cheap on the
 * engine's connection: ioredis copies every script defined on it (about 100, BullMQ's and Baton's)
 * onto each MULTI, about 0.1 ms of CPU; one per turn of the event loop came to a few percent of a
 * loaded API's CPU. Other replicas list a session this much later; this replica flushes before it lists.
 */
export const SESSION_INDEX_BATCH_MS = 20;

/** Sessions listed per tenant, at most: older entries fall off when a submission adds one past it. */
export const SESSION_INDEX_CAP = 10_000;

export interface SessionIndexOptions {
  /** Entries kept per tenant (the oldest by last activity go first). */
  cap?: number;
  /** The tenant's list expires this long after its last submission; 0 keeps it (RETENTION_MS). */
  ttlMs: number;
}

export interface ListedSession {
  id: string;
  status: SessionStatus;
  activeTaskId: string | null;
  /** When a root task was last submitted to the session (ISO 8601). */
  lastActivityAt: string;
}

export interface SessionPage {
  sessions: ListedSession[];
  /** Pass as `cursor` for the next page; null on the last page. */
  nextCursor: string | null;
}

interface Position {
  score: number;
  id: string;
}

/** The cursor is opaque to clients: the last entry's score and id, base64url. */
export function encodeCursor(p: Position): string {
  return Buffer.from(`${p.score}:${p.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{1,16}):([A-Za-z0-9._-]{1,128})$/.exec(text);
  if (!match) throw new ApiError('INVALID_INPUT', 'cursor: not a cursor this API returned (pass `nextCursor` from the previous page unchanged)');
  return { score: Number(match[1]), id: match[2]! };
}

/**
 * Which sessions a tenant has, newest activity first, for `GET /v1/sessions`
 * (the console's session list). The engine keeps no per-tenant view (every
 * session key lives in its own cluster slot), so the API keeps one: a sorted
 * set per tenant (`Keys.tenantSessions`), scored by the time of the last
 * submission, written after each successful submit with plain commands (no
 * script: the entry is a hint, the session's own keys are the truth).
 *
 * Bounded (`cap` entries, the least recently active dropped) and expiring
 * (`ttlMs` after the tenant's last submission, like RETENTION_MS). Entries
 * whose session is gone (deleted, expired, or since owned by another tenant)
 * are skipped when read and removed then. Known limits: a session that runs
 * longer than the retention with no new submission from its tenant can drop
 * off the list while it still exists; an entry re-added by a submission racing
 * the lazy removal of its stale predecessor can be removed (the next
 * submission adds it back).
 */
export class SessionIndex {
  private readonly cap: number;
  /** Activity not yet written: tenant -> session -> time (bounded: `cap` sessions per tenant). */
  private pending = new Map<string, Map<string, number>>();
  /** The write that will carry `pending` (started on the next turn of the event loop), if one is due. */
  private nextWrite: Promise<void> | null = null;
  /** The write in flight (writes run one after another, so a later time never loses to an earlier one). */
  private lastWrite: Promise<void> = Promise.resolve();

  constructor(
    private readonly engine: Engine,
    private readonly options: SessionIndexOptions,
  ) {
    this.cap = options.cap ?? SESSION_INDEX_CAP;
  }

  /**
   * Records activity on a session (after a successful submission). The entries of a short window
   * (SESSION_INDEX_BATCH_MS) go out together, one transaction per tenant, so a burst of submissions costs
   * one round trip, not one each. Resolves once written; a submit route does not wait for it (its answer
   * must not wait a second command timeout on a hint).
   */
  record(tenant: string, sessionId: string, at = Date.now()): Promise<void> {
    let sessions = this.pending.get(tenant);
    if (!sessions) this.pending.set(tenant, (sessions = new Map()));
    sessions.delete(sessionId); // re-inserted last: the oldest activity is first in line to be dropped
    sessions.set(sessionId, at);
    if (sessions.size > this.cap) sessions.delete(sessions.keys().next().value!);
    this.nextWrite ??= this.lastWrite
      .catch(() => undefined)
      .then(() => setTimeout(SESSION_INDEX_BATCH_MS))
      .then(() => this.write());
    return this.nextWrite;
  }

  /** Waits for the activity recorded so far to be written (or to fail). */
  async flush(): Promise<void> {
    await (this.nextWrite ?? this.lastWrite).catch(() => undefined);
  }

  private async write(): Promise<void> {
    const batch = this.pending;
    this.pending = new Map();
    this.nextWrite = null;
    const written = Promise.all([...batch].map(([tenant, sessions]) => this.writeTenant(tenant, sessions))).then(() => undefined);
    this.lastWrite = written;
    await written;
  }

  private async writeTenant(tenant: string, sessions: Map<string, number>): Promise<void> {
    const key = this.engine.keys.tenantSessions(tenant);
    const members = [...sessions].flatMap(([id, at]) => [at, id]);
    const tx = this.engine.redis
      .multi()
      .zadd(key, ...members)
      .zremrangebyrank(key, 0, -(this.cap + 1));
    if (this.options.ttlMs > 0) tx.pexpire(key, this.options.ttlMs);
    else tx.persist(key);
    await tx.exec();
  }

  /** One page, newest activity first, after `cursor` (from a previous page). */
  async page(tenant: string, limit: number, cursor?: string): Promise<SessionPage> {
    await this.flush(); // this replica's own recent submissions are listed
    const key = this.engine.keys.tenantSessions(tenant);
    const after = cursor === undefined ? null : decodeCursor(cursor);
    const batch = Math.max(limit + 1, 50);
    const found: { position: Position; session: ListedSession }[] = [];
    const stale: string[] = [];
    let offset = 0;
    // Reads until one entry past the page is found (there is a next page) or the set ends; stale entries
    // are skipped, so a page may take more than one read.
    while (found.length <= limit) {
      const raw = await this.engine.redis.zrange(key, after ? after.score : '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', offset, batch, 'WITHSCORES');
      offset += raw.length / 2;
      const positions: Position[] = [];
      for (let i = 0; i < raw.length; i += 2) {
        const position = { id: raw[i]!, score: Number(raw[i + 1]) };
        // Equal scores come in descending id order: past the cursor means a smaller id.
        if (after && position.score === after.score && position.id >= after.id) continue;
        positions.push(position);
      }
      const sessions = await Promise.all(positions.map((p) => this.engine.getSession(p.id)));
      positions.forEach((position, i) => {
        const session = sessions[i]!;
        if (session.tenant !== tenant) return void stale.push(position.id);
        found.push({
          position,
          session: { id: session.id, status: session.status, activeTaskId: session.activeTaskId, lastActivityAt: new Date(position.score).toISOString() },
        });
      });
      if (raw.length < batch * 2) break;
    }
    if (stale.length > 0) await this.engine.redis.zrem(key, ...stale);
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    return { sessions: page.map((f) => f.session), nextCursor: found.length > limit && last ? encodeCursor(last.position) : null };
  }
}
