import { createParser, type EventSourceParser } from 'eventsource-parser';

/**
 * Server-Sent Events, text in and whole events out (no I/O here), on
 * `eventsource-parser` (WHATWG event-stream rules: LF/CR/CRLF line ends split
 * anywhere across chunks, comments, multi-line data, `id`, `retry`, a leading
 * BOM). This wrapper adds what a resuming client needs on top: the last event
 * id seen (what a reconnect sends as Last-Event-ID), the server's `retry`, and
 * a count of keep-alive comments. Two departures from the spec, harmless for
 * Baton's API (every event it sends has data, lines end with LF): an event
 * with an id and no data does not move the last event id, and with bare-CR
 * line ends an event completes once a later line has ended.
 */
export interface SseMessage {
  /** The last event id seen so far (what a reconnect sends as Last-Event-ID). */
  id: string;
  /** The `event:` field, `message` when absent. */
  event: string;
  data: string;
}

export class SseParser {
  /**
   * Id of the last event dispatched. It survives events without an `id:`
   * line, and counts only once its event is complete: a half-received event
   * is not "seen", so a reconnect asks for it again.
   */
  lastEventId = '';
  /** Reconnection delay the server asked for with `retry:`, if any. */
  retryMs: number | null = null;
  /** Number of `:` comment lines seen (keep-alives). */
  comments = 0;

  private out: SseMessage[] = [];
  private started = false;
  private readonly parser: EventSourceParser = createParser({
    onEvent: (e) => {
      // An id containing NUL is ignored, as the spec says; the library passes it through.
      if (e.id !== undefined && !e.id.includes('\0')) this.lastEventId = e.id;
      this.out.push({ id: this.lastEventId, event: e.event ?? 'message', data: e.data });
    },
    onRetry: (ms) => {
      this.retryMs = ms;
    },
    onComment: () => {
      this.comments++;
    },
  });

  /** Feeds decoded text; returns the events completed by it, in order. */
  push(text: string): SseMessage[] {
    // The library reads a leading byte-order mark as part of the first field name.
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    this.parser.feed(text);
    const events = this.out;
    this.out = [];
    return events;
  }

  /** Drops a half-received event (the connection ended); the last event id stays. */
  reset(): void {
    this.parser.reset({ consume: false });
    this.out = [];
  }
}
