import { deferred, type Deferred } from '@baton/testkit';
import http from 'node:http';

export interface SseFrame {
  id?: string;
  event?: string;
  data?: string;
  comment?: string;
}

/** A minimal SSE client over node:http for tests: collects frames, lets a test await the next matching one. */
export class SseClient {
  readonly frames: SseFrame[] = [];
  status = 0;
  headers: http.IncomingHttpHeaders = {};
  /** Everything received, as text (the problem document of a refused request). */
  body = '';
  private buffer = '';
  private waiters: { match: (f: SseFrame) => boolean; d: Deferred<SseFrame>; from: number }[] = [];
  private request: http.ClientRequest | null = null;
  private response: http.IncomingMessage | null = null;
  readonly ended = deferred<void>();

  static async open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    const client = new SseClient();
    const ready = deferred<void>();
    client.request = http.get(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      client.response = res;
      client.status = res.statusCode ?? 0;
      client.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        client.body += chunk;
        client.push(chunk);
      });
      res.on('end', () => client.ended.resolve());
      res.on('close', () => client.ended.resolve());
      ready.resolve();
    });
    client.request.on('error', (err) => {
      ready.reject(err);
      client.ended.resolve();
    });
    await ready.promise;
    return client;
  }

  private push(chunk: string): void {
    this.buffer += chunk;
    let at: number;
    while ((at = this.buffer.indexOf('\n\n')) !== -1) {
      const raw = this.buffer.slice(0, at);
      this.buffer = this.buffer.slice(at + 2);
      const frame: SseFrame = {};
      for (const line of raw.split('\n')) {
        if (line.startsWith(':')) frame.comment = line.slice(1).trim();
        else {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          if (field === 'id' || field === 'event' || field === 'data') frame[field] = value;
        }
      }
      this.frames.push(frame);
      for (const w of [...this.waiters]) {
        if (w.match(frame)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.d.resolve(frame);
        }
      }
    }
  }

  /** Events (frames with an id), in arrival order. */
  get events(): { id: string; event: string; data: Record<string, unknown> }[] {
    return this.frames.filter((f) => f.id).map((f) => ({ id: f.id!, event: f.event!, data: JSON.parse(f.data!) as Record<string, unknown> }));
  }

  /** Resolves with the first frame (already received or coming) that matches. */
  waitFor(match: (f: SseFrame) => boolean): Promise<SseFrame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    const d = deferred<SseFrame>();
    this.waiters.push({ match, d, from: this.frames.length });
    return d.promise;
  }

  /** Stops reading (the server's writes back up once the socket buffers are full), until resume(). */
  pause(): void {
    this.response?.pause();
  }

  resume(): void {
    this.response?.resume();
  }

  close(): void {
    this.request?.destroy();
  }
}
