import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatonClient } from './baton-client';
import { BatonApiError, BatonProtocolError } from './errors';
import { isResetEvent, type SessionEvent } from './event-stream';

/**
 * The event iterator against a real HTTP server whose connections the test
 * controls (drops mid-event, error statuses, silence), which the real API
 * cannot be made to do on cue. The iterator against the real API is covered
 * in baton-client.integration.test.ts.
 */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse, n: number) => void;

async function serve(
  handler: Handler,
): Promise<{ client: BatonClient; requests: http.IncomingHttpHeaders[]; closed: Promise<void>[]; close(): Promise<void> }> {
  const requests: http.IncomingHttpHeaders[] = [];
  const closed: Promise<void>[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.headers);
    closed.push(new Promise((resolve) => res.on('close', () => resolve())));
    handler(req, res, requests.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    client: new BatonClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'secret-key' }),
    requests,
    closed,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

const frame = (id: string, type: string, taskId: string | null) => `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify({ id, type, taskId })}\n\n`;

function openStream(res: http.ServerResponse): void {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  res.write(': connected\n\n');
}

async function take(iterator: AsyncGenerator<SessionEvent>, n: number): Promise<SessionEvent[]> {
  const out: SessionEvent[] = [];
  for await (const event of iterator) {
    out.push(event);
    if (out.length === n) break;
  }
  return out;
}

describe('client.events (SSE)', () => {
  it('reconnects after a drop mid-event with Last-Event-ID: nothing missed, nothing twice', async () => {
    const srv = await serve((req, res, n) => {
      openStream(res);
      if (n === 1) {
        res.write('retry: 10\n\n' + frame('1-0', 'task.created', 't1') + frame('2-0', 'task.started', 't1'));
        // Half an event, then the connection dies.
        res.write('id: 3-0\nevent: task.completed\ndata: {"id":"3-');
        setTimeout(() => res.destroy(), 20);
      } else {
        res.write(frame('3-0', 'task.completed', 't1') + frame('4-0', 'session.paused', null));
      }
    });
    try {
      const reconnects: boolean[] = [];
      const events = await take(srv.client.events('s1', { onOpen: ({ reconnect }) => reconnects.push(reconnect) }), 4);
      expect(events.map((e) => [e.id, e.type, e.taskId])).toEqual([
        ['1-0', 'task.created', 't1'],
        ['2-0', 'task.started', 't1'],
        ['3-0', 'task.completed', 't1'],
        ['4-0', 'session.paused', null],
      ]);
      expect(events[0]!.data).toEqual({ id: '1-0', type: 'task.created', taskId: 't1' });
      expect(reconnects).toEqual([false, true]);
      expect(srv.requests[0]!['last-event-id']).toBeUndefined();
      expect(srv.requests[1]!['last-event-id']).toBe('2-0');
      expect(srv.requests.every((h) => h.authorization === 'Bearer secret-key' && h.accept === 'text/event-stream')).toBe(true);
      // Breaking out of the loop closed the connection.
      await srv.closed[1];
    } finally {
      await srv.close();
    }
  });

  it('resumes from options.lastEventId on the first connection', async () => {
    const srv = await serve((_req, res) => {
      openStream(res);
      res.write(frame('8-0', 'task.started', 't2'));
    });
    try {
      const [event] = await take(srv.client.events('s1', { lastEventId: '7-0' }), 1);
      expect(event!.id).toBe('8-0');
      expect(srv.requests[0]!['last-event-id']).toBe('7-0');
    } finally {
      await srv.close();
    }
  });

  it('throws the RFC 9457 problem of a non-retryable status, without retrying', async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(404, { 'content-type': 'application/problem+json' });
      res.end(JSON.stringify({ type: 'https://baton.dev/problems/session-not-found', title: 'Session not found', status: 404, detail: 'no session s1' }));
    });
    try {
      const error = await take(srv.client.events('s1', { reconnectDelayMs: 1 }), 1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatonApiError);
      expect((error as BatonApiError).problem).toEqual({
        type: 'https://baton.dev/problems/session-not-found',
        title: 'Session not found',
        status: 404,
        detail: 'no session s1',
      });
      expect(srv.requests).toHaveLength(1);
    } finally {
      await srv.close();
    }
  });

  it('retries 503s and silent connections (idle timeout), then streams', async () => {
    const srv = await serve((_req, res, n) => {
      if (n === 1) {
        res.writeHead(503, { 'content-type': 'text/plain' });
        res.end('warming up');
      } else if (n === 2) {
        res.writeHead(200, { 'content-type': 'text/event-stream' }); // ...and then nothing at all
        res.flushHeaders();
      } else {
        openStream(res);
        res.write(frame('1-0', 'task.created', 't3'));
      }
    });
    try {
      const disconnects: (string | null)[] = [];
      const events = await take(
        srv.client.events('s1', { reconnectDelayMs: 5, idleTimeoutMs: 300, onDisconnect: (e) => disconnects.push(e ? e.message : null) }),
        1,
      );
      expect(events.map((e) => e.id)).toEqual(['1-0']);
      expect(srv.requests).toHaveLength(3);
      expect(disconnects[0]).toContain('Service Unavailable: warming up');
      expect(disconnects[1]).toContain('no data for 300 ms');
    } finally {
      await srv.close();
    }
  });

  it('surfaces a reset as a typed event, and resumes after its id on the next connection', async () => {
    const reset = {
      type: 'reset',
      sessionId: 's1',
      reason: 'events-trimmed',
      lastEventId: '2-0',
      oldestEventId: '9-0',
      detail: 'Events after lastEventId are no longer retained.',
    };
    const srv = await serve((_req, res, n) => {
      openStream(res);
      if (n === 1) {
        res.write(`id: 8-18446744073709551615\nevent: reset\ndata: ${JSON.stringify(reset)}\n\n` + frame('9-0', 'task.completed', 't1'));
        setTimeout(() => res.destroy(), 20);
      } else {
        res.write(frame('10-0', 'task.created', 't2'));
      }
    });
    try {
      const events = await take(srv.client.events('s1', { lastEventId: '2-0', reconnectDelayMs: 1 }), 3);
      expect(events.map((e) => [e.id, e.type])).toEqual([
        ['8-18446744073709551615', 'reset'],
        ['9-0', 'task.completed'],
        ['10-0', 'task.created'],
      ]);
      const [first] = events;
      expect(isResetEvent(first!)).toBe(true);
      expect(first!.reset).toMatchObject({ lastEventId: '2-0', oldestEventId: '9-0', reason: 'events-trimmed' });
      expect(events.slice(1).every((e) => e.reset === null && !isResetEvent(e))).toBe(true);
      expect(srv.requests.map((h) => h['last-event-id'])).toEqual(['2-0', '9-0']);
    } finally {
      await srv.close();
    }
  });

  it('refuses a malformed reset (a protocol error, not a silent gap)', async () => {
    const srv = await serve((_req, res) => {
      openStream(res);
      res.write('id: 5-0\nevent: reset\ndata: {"type":"reset"}\n\n');
    });
    try {
      const error = await take(srv.client.events('s1', { lastEventId: '2-0' }), 1).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(BatonProtocolError);
      expect(String(error)).toMatch(/malformed reset event:\n✖ .+\n {2}→ at \w+/);
    } finally {
      await srv.close();
    }
  });

  it('ends quietly when the signal aborts, and closes the connection', async () => {
    const srv = await serve((_req, res) => openStream(res));
    try {
      const abort = new AbortController();
      const iterator = srv.client.events('s1', { signal: abort.signal, onOpen: () => setTimeout(() => abort.abort(), 10) });
      expect(await take(iterator, 1)).toEqual([]);
      await srv.closed[0];
    } finally {
      await srv.close();
    }
  });
});
