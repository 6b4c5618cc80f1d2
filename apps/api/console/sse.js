/* global AbortController, TextDecoderStream */
// Server-Sent Events over fetch: EventSource cannot send an Authorization header.
// Parses the text/event-stream format (WHATWG HTML, "event stream interpretation"),
// remembers the last `id:`, and reconnects with `Last-Event-ID` after a drop.

import { authHeaders } from './api.js';

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 15_000;

/**
 * Feeds text chunks, calls `dispatch({id, event, data})` for each complete
 * message. Comments (`: keep-alive`) are skipped; `id` is the last id seen so far.
 */
export class SseParser {
  constructor(dispatch) {
    this.dispatch = dispatch;
    this.buffer = '';
    this.event = '';
    this.data = [];
    this.id = null;
  }

  push(chunk) {
    this.buffer += chunk;
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.buffer);
      // A lone '\r' at the very end may be half of '\r\n': wait for the next chunk.
      if (!match || (match[0] === '\r' && match.index === this.buffer.length - 1)) return;
      const line = this.buffer.slice(0, match.index);
      this.buffer = this.buffer.slice(match.index + match[0].length);
      this.line(line);
    }
  }

  line(line) {
    if (line === '') {
      if (this.data.length > 0) this.dispatch({ id: this.id, event: this.event || 'message', data: this.data.join('\n') });
      this.event = '';
      this.data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    else if (field === 'id' && !value.includes('\0')) this.id = value;
  }
}

/**
 * A session's live events. Calls `onEvent(type, event)` per engine event,
 * `onReset(info)` when the API says events after our position were trimmed
 * (reload the state), `onState('connecting'|'live'|'reconnecting'|'closed', detail)`.
 * Stops for good on 401/404 (wrong key, session gone) and on `close()`.
 */
export class EventStream {
  constructor({ sessionId, key, onEvent, onReset, onState }) {
    this.url = `/v1/sessions/${encodeURIComponent(sessionId)}/events`;
    this.key = key;
    this.onEvent = onEvent;
    this.onReset = onReset;
    this.onState = onState;
    this.lastEventId = null;
    this.controller = new AbortController();
    this.retryMs = MIN_RETRY_MS;
    void this.run();
  }

  close() {
    this.controller.abort();
  }

  get closed() {
    return this.controller.signal.aborted;
  }

  async run() {
    while (!this.closed) {
      this.onState(this.lastEventId ? 'reconnecting' : 'connecting');
      let wait = this.retryMs;
      try {
        const res = await fetch(this.url, {
          headers: { accept: 'text/event-stream', ...authHeaders(this.key), ...(this.lastEventId ? { 'last-event-id': this.lastEventId } : {}) },
          signal: this.controller.signal,
          cache: 'no-store',
        });
        if (res.status === 401 || res.status === 404) {
          this.onState('closed', res.status === 401 ? 'the key was refused' : 'the session no longer exists');
          return;
        }
        if (!res.ok || !res.body) {
          const after = Number(res.headers.get('retry-after'));
          if (after > 0) wait = after * 1000;
          throw new Error(`HTTP ${res.status}`);
        }
        this.retryMs = MIN_RETRY_MS;
        this.onState('live');
        await this.read(res.body);
      } catch (err) {
        if (this.closed) return;
        this.onState('reconnecting', String(err && err.message ? err.message : err));
      }
      if (this.closed) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    }
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser((message) => {
      if (message.id) this.lastEventId = message.id;
      let data;
      try {
        data = JSON.parse(message.data);
      } catch {
        return;
      }
      if (message.event === 'reset') this.onReset(data);
      else this.onEvent(message.event, data);
    });
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      parser.push(value);
    }
  }
}
