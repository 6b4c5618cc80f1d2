import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatonClient } from '../baton-client';
import type { StreamReset } from '../event-stream';
import type { TaskTree } from '../schemas';
import { LivePrinter } from './live-printer';
import { watchTask } from './watch';
import type { WatchView } from './watch-view';

/**
 * watchTask against a real HTTP server that plays the API: the event stream
 * opens with a `reset` (the server trimmed events the watch never read), and
 * the tree is reported finished only once the view was told of the reset, so
 * the watch ends only if it reloads the tree after the reset.
 */
const task = (status: TaskTree['status']): TaskTree => ({
  id: 't1',
  sessionId: 's1',
  parentId: null,
  rootId: 't1',
  mode: 'code',
  prompt: 'p',
  status,
  result: status === 'completed' ? 'done' : null,
  error: null,
  childIds: [],
  turns: 1,
  createdAt: '2026-01-01T00:00:00.000Z',
  startedAt: '2026-01-01T00:00:00.000Z',
  finishedAt: status === 'completed' ? '2026-01-01T00:00:01.000Z' : null,
  children: [],
});

describe('watchTask', () => {
  it('reloads the tree when the event stream sends a reset', async () => {
    const resets: StreamReset[] = [];
    const updates: string[] = [];
    const view: WatchView = {
      tickMs: null,
      update: (tree) => updates.push(tree.status),
      tick: () => undefined,
      reset: (info) => resets.push(info),
    };
    const reset = { type: 'reset', sessionId: 's1', reason: 'events-trimmed', lastEventId: '', oldestEventId: '9-0', detail: 'reload' };
    const server = http.createServer((req, res) => {
      if (req.url === '/v1/sessions/s1/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(`: connected\n\nid: 8-0\nevent: reset\ndata: ${JSON.stringify(reset)}\n\n`);
        return;
      }
      const body = req.url === '/v1/tasks/t1' ? task('running') : task(resets.length > 0 ? 'completed' : 'running');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new BatonClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'secret-key' });
      const tree = await watchTask(client, 't1', view);
      expect(tree.status).toBe('completed');
      expect(resets).toEqual([expect.objectContaining({ oldestEventId: '9-0', reason: 'events-trimmed' })]);
      expect(updates.at(-1)).toBe('completed');
      expect(updates.slice(0, -1).every((s) => s === 'running')).toBe(true);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('prints streamed tokens live and ends the line at turn.completed; deltas do not re-fetch the tree', async () => {
    const updates: string[] = [];
    const view: WatchView = { tickMs: null, update: (tree) => updates.push(tree.status), tick: () => undefined };
    const frame = (id: number, type: string, data: object) =>
      `id: ${id}-0\nevent: ${type}\ndata: ${JSON.stringify({ id: `${id}-0`, type, sessionId: 's1', taskId: 't1', at: '', data })}\n\n`;
    let committed = false;
    let treeFetches = 0;
    const server = http.createServer((req, res) => {
      if (req.url === '/v1/sessions/s1/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write(': connected\n\n');
        const pieces = ['Hel', 'lo', ' there'];
        pieces.forEach((text, i) => res.write(frame(i + 1, 'message.delta', { turn: 1, grant: 1, attempt: 1, seq: i + 1, text })));
        committed = true;
        res.write(frame(9, 'turn.completed', { turn: 1 }));
        return;
      }
      if (req.url === '/v1/tasks/t1/tree') treeFetches++;
      const body = req.url === '/v1/tasks/t1' ? task('running') : task(committed ? 'completed' : 'running');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      let out = '';
      const live = new LivePrinter({ write: (t) => (out += String(t)) });
      const client = new BatonClient({ baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, apiKey: 'secret-key' });
      const tree = await watchTask(client, 't1', view, { live });
      expect(tree.status).toBe('completed');
      expect(out).toBe('Hello there\n');
      // The first fetch, one when the stream opened, one for turn.completed: none per delta.
      expect(treeFetches).toBeLessThanOrEqual(3);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
