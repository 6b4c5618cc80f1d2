import { decodeEvent, type BatonEvent, type Engine } from '@baton/core';
import { compareIds, idBefore } from './stream-id';

/**
 * A reader's position fell off the head of the session's stream: the stream
 * is capped by count and by age, so events after `lastEventId` were trimmed
 * and the reader cannot be given them.
 */
export interface StreamGap {
  /** The position the reader asked to continue after. */
  lastEventId: string;
  /** The oldest event still retained (null: none is retained). */
  oldestEventId: string | null;
  /** Where reading continues: just before the oldest retained event (or the newest id ever written). */
  resumeAfter: string;
}

export interface BacklogPage {
  /** Set when events after `after` were trimmed; `events` then start at the oldest retained one. */
  gap: StreamGap | null;
  events: BatonEvent[];
  /** The page was full: more events may follow. */
  more: boolean;
}

type RawEntry = [id: string, fields: string[]];

/** Reads the flat `XINFO STREAM` reply (name, value, name, value, ...) into what the gap check needs. */
function streamInfo(reply: unknown): { firstId: string | null; lastGeneratedId: string } {
  const flat = Array.isArray(reply) ? (reply as unknown[]) : [];
  const field = (name: string) => flat[flat.indexOf(name) + 1];
  const first = field('first-entry');
  return {
    firstId: Array.isArray(first) && typeof first[0] === 'string' ? first[0] : null,
    lastGeneratedId: typeof field('last-generated-id') === 'string' ? (field('last-generated-id') as string) : '0',
  };
}

/**
 * One page of a session's events after `after` ('0': from the oldest
 * retained), with trimming detected in the same transaction (MULTI: XINFO
 * STREAM + XRANGE, one key so one slot on a cluster): events were lost to
 * trimming when `after` lies before the oldest retained entry. The check is
 * conservative by one entry: a reader whose last event is the newest trimmed
 * one is told too (the id before the oldest retained one is not kept), which
 * costs it a reload and never a silent gap. A missing stream with a position
 * given counts as trimmed (its events are gone).
 */
export async function readBacklog(engine: Engine, sessionId: string, after: string, count: number): Promise<BacklogPage> {
  const key = engine.keys.events(sessionId);
  const start = after === '0' ? '-' : `(${after}`;
  const replies = await engine.redis.multi().xinfo('STREAM', key).xrange(key, start, '+', 'COUNT', count).exec();
  if (!replies) throw new Error(`event backlog of session ${sessionId}: transaction aborted`);
  const [[infoError, info], [rangeError, range]] = replies as [[Error | null, unknown], [Error | null, unknown]];
  if (rangeError) throw rangeError;
  const entries = (range ?? []) as RawEntry[];
  const events = entries.map((e) => decodeEvent(sessionId, e));
  const more = entries.length >= count;
  if (after === '0') return { gap: null, events, more };
  if (infoError) {
    // XINFO fails only on a missing key: nothing of this stream is left.
    return { gap: { lastEventId: after, oldestEventId: null, resumeAfter: after }, events, more };
  }
  const { firstId, lastGeneratedId } = streamInfo(info);
  if (firstId !== null) {
    if (compareIds(after, idBefore(firstId)) >= 0) return { gap: null, events, more };
    return { gap: { lastEventId: after, oldestEventId: firstId, resumeAfter: idBefore(firstId) }, events, more };
  }
  // Empty stream (every entry trimmed by age): a gap unless the reader had seen the newest.
  if (compareIds(after, lastGeneratedId) >= 0) return { gap: null, events, more };
  return { gap: { lastEventId: after, oldestEventId: null, resumeAfter: lastGeneratedId }, events, more };
}
