import type { RedisClient as Redis } from '../engine-context';
import type { EngineContext } from '../engine-context';
import { EventSchema, type BatonEvent } from '../model/event';

type StreamEntry = [id: string, fields: string[]];

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

  /**
   * Blocks on `connection` (a dedicated one: XREAD BLOCK holds it) until events
   * after `after` exist or `blockMs` passes.
   */
  async waitFor(connection: Redis, sessionId: string, after: string, blockMs: number, count = 1000): Promise<BatonEvent[]> {
    const reply = (await connection.xread(
      'COUNT',
      count,
      'BLOCK',
      blockMs,
      'STREAMS',
      this.ctx.keys.events(sessionId),
      after || '0',
    )) as [string, StreamEntry[]][] | null;
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
