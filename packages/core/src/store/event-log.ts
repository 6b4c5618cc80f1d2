import type { RedisClient as Redis } from '../connection';
import type { EngineContext } from '../engine-context';
import { BatonError } from '../errors';
import { EventSchema, type BatonEvent } from '../model/event';

type StreamEntry = [id: string, fields: string[]];

/** A stream id (`<ms>-<seq>`, or `<ms>`) as a comparable pair; null when it is not one. */
function parseStreamId(id: string): [bigint, bigint] | null {
  const m = /^(\d{1,20})(?:-(\d{1,20}))?$/.exec(id);
  return m ? [BigInt(m[1]!), BigInt(m[2] ?? '0')] : null;
}

function compareIds(a: [bigint, bigint], b: [bigint, bigint]): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] === b[1] ? 0 : a[1] < b[1] ? -1 : 1;
}

function decode(sessionId: string, [id, fields]: StreamEntry): BatonEvent {
  const f: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]!] = fields[i + 1]!;
  return EventSchema.parse({
    id,
    type: f.type,
    sessionId,
    taskId: f.task ? f.task : null,
    at: new Date(Number(f.at)).toISOString(),
    data: f.data ? (JSON.parse(f.data) as Record<string, unknown>) : {},
  });
}

/**
 * The per-session event stream. Events are written by the scripts that make
 * each change (so their order is the order of the changes); ids are Redis
 * stream ids, monotonic per session, and resumable with `after`.
 */
export class EventLog {
  constructor(private readonly ctx: EngineContext) {}

  /** Events after `after` ('0' or '' for the start), oldest first. */
  async read(sessionId: string, after = '0', count = 1000): Promise<BatonEvent[]> {
    const start = after && after !== '0' ? `(${after}` : '-';
    const entries = (await this.ctx.redis.xrange(this.ctx.keys.events(sessionId), start, '+', 'COUNT', count)) as StreamEntry[];
    return entries.map((e) => decode(sessionId, e));
  }

  /** Id of the oldest event the stream still holds; null when it holds none. */
  async firstId(sessionId: string): Promise<string | null> {
    const [entry] = (await this.ctx.redis.xrange(this.ctx.keys.events(sessionId), '-', '+', 'COUNT', 1)) as StreamEntry[];
    return entry ? entry[0] : null;
  }

  /** Id of the newest event the stream holds; null when it holds none. */
  async lastId(sessionId: string): Promise<string | null> {
    const [entry] = (await this.ctx.redis.xrevrange(this.ctx.keys.events(sessionId), '+', '-', 'COUNT', 1)) as StreamEntry[];
    return entry ? entry[0] : null;
  }

  /**
   * True when events after `lastEventId` may have been removed from the stream
   * (trimmed by count or age, or the session expired or was deleted), so a
   * reader resuming from it must reload the state rather than trust the
   * stream. Trimming only removes the oldest events: a gap is possible only
   * when something was removed and the oldest event still held is newer
   * than `lastEventId`. `'0'` asks about the whole stream.
   */
  async isTrimmed(sessionId: string, lastEventId: string): Promise<boolean> {
    const last = parseStreamId(lastEventId || '0');
    if (!last) throw new BatonError('INVALID_INPUT', `"${lastEventId}" is not an event id (<ms>-<seq>)`);
    const info = await this.streamInfo(sessionId);
    // No stream: if the reader had seen events, they are all gone (session expired or deleted).
    if (!info) return compareIds(last, [0n, 0n]) > 0;
    if (info.removed === 0) return false;
    // An emptied stream: everything up to the last id it generated is gone.
    const bound = parseStreamId(info.firstId ?? info.lastGeneratedId)!;
    return compareIds(last, bound) < 0;
  }

  private async streamInfo(sessionId: string): Promise<{ removed: number; firstId: string | null; lastGeneratedId: string } | null> {
    let reply: unknown[];
    try {
      reply = (await this.ctx.redis.xinfo('STREAM', this.ctx.keys.events(sessionId))) as unknown[];
    } catch (err) {
      if (err instanceof Error && /no such key/i.test(err.message)) return null;
      throw err;
    }
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < reply.length; i += 2) f.set(String(reply[i]), reply[i + 1]);
    const length = Number(f.get('length'));
    // `entries-added` exists since Redis 7; without it, assume something was removed.
    const added = f.has('entries-added') ? Number(f.get('entries-added')) : Number.MAX_SAFE_INTEGER;
    const first = f.get('first-entry') as StreamEntry | null | undefined;
    return { removed: added - length, firstId: first ? first[0] : null, lastGeneratedId: String(f.get('last-generated-id')) };
  }

  /**
   * Blocks on `connection` (a dedicated one: XREAD BLOCK holds it) until events
   * after `after` exist or `blockMs` passes.
   */
  async waitFor(connection: Redis, sessionId: string, after: string, blockMs: number, count = 1000): Promise<BatonEvent[]> {
    const reply = (await connection.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', this.ctx.keys.events(sessionId), after || '0')) as
      [string, StreamEntry[]][] | null;
    if (!reply) return [];
    return reply[0]![1].map((e) => decode(sessionId, e));
  }
}

/**
 * Decodes one raw entry of a session's stream (`[id, fields]`, as XREAD and
 * XRANGE return it): for readers that share one XREAD over many streams.
 */
export function decodeEvent(sessionId: string, entry: [id: string, fields: string[]]): BatonEvent {
  return decode(sessionId, entry);
}
