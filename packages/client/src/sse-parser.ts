/**
 * An incremental Server-Sent Events parser following the WHATWG "event stream
 * interpretation" rules: LF, CR and CRLF line ends (a CRLF may be split across
 * chunks), `:` comments (the server's keep-alives), multi-line `data`, `id`
 * (kept across events, ignored when it contains NUL), `retry`, and events
 * dispatched on a blank line. Text in, whole events out; no I/O here.
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
   * Id of the last event dispatched (what a reconnect sends as Last-Event-ID).
   * It survives events without an `id:` line, and an `id:` line counts only
   * once its event is complete: a half-received event is not "seen".
   */
  lastEventId = '';
  /** Reconnection delay the server asked for with `retry:`, if any. */
  retryMs: number | null = null;
  /** Number of `:` comment lines seen (keep-alives). */
  comments = 0;

  private buffer = '';
  private skipLeadingLf = false;
  private bomChecked = false;
  private data: string[] = [];
  private event = '';
  private idBuffer: string | null = null;

  /** Feeds decoded text; returns the events completed by it, in order. */
  push(text: string): SseMessage[] {
    if (!this.bomChecked && text.length > 0) {
      this.bomChecked = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (this.skipLeadingLf && text.startsWith('\n')) text = text.slice(1);
    this.skipLeadingLf = false;
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          // A CR ends the chunk: its LF, if any, opens the next one.
          this.skipLeadingLf = true;
        }
      }
      start = i + 1;
      const message = this.line(line);
      if (message) out.push(message);
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  /** Forgets a half-received event (the connection dropped mid-event), its id included. */
  reset(): void {
    this.buffer = '';
    this.skipLeadingLf = false;
    this.bomChecked = false;
    this.data = [];
    this.event = '';
    this.idBuffer = null;
  }

  private line(line: string): SseMessage | null {
    if (line === '') return this.dispatch();
    if (line.startsWith(':')) {
      this.comments++;
      return null;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'data':
        this.data.push(value);
        break;
      case 'event':
        this.event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.idBuffer = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        // Unknown fields are ignored (spec).
        break;
    }
    return null;
  }

  private dispatch(): SseMessage | null {
    if (this.idBuffer !== null) this.lastEventId = this.idBuffer;
    this.idBuffer = null;
    const data = this.data;
    const event = this.event;
    this.data = [];
    this.event = '';
    if (data.length === 0) return null;
    return { id: this.lastEventId, event: event || 'message', data: data.join('\n') };
  }
}
