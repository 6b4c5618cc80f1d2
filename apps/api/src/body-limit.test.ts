import { request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { BODY_LIMIT } from './app';
import { DRAIN_MAX_BYTES } from './http/drain-request';
import { startHarness, type Harness } from './test-utils/harness';

/**
 * A body over the limit gets its 413 problem over a real socket. The API
 * answers before it has read such a body, with `Connection: close`; closing
 * a socket with unread bytes makes the kernel send a reset, which a client
 * still uploading meets as EPIPE, often before it has read the answer
 * (measured without the drain: 19 of 30 paced 2 MB uploads got no answer).
 */
let h: Harness;
let port: number;
beforeAll(async () => {
  h = await startHarness();
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  port = (h.app.server.address() as AddressInfo).port;
});
afterAll(async () => h.close());

const TWO_MB = 2 * 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** node:http, on a fresh connection, 64 KiB writes: resolves with the answer, rejects on any socket error. */
function httpPost(size: number, headers: Record<string, string | number>): Promise<{ status: number; contentType: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/sessions/s-big/tasks', agent: false, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type']), body: Buffer.concat(chunks).toString('utf8') }),
      );
    });
    req.on('error', reject);
    let sent = 0;
    const pump = () => {
      while (sent < size) {
        sent += CHUNK.length;
        if (!req.write(CHUNK)) return void req.once('drain', pump);
      }
      req.end();
    };
    pump();
  });
}

/**
 * A client that uploads its whole body, paced (1 ms per 64 KiB, as over a real network), and reads
 * the answer as it comes, like curl or most HTTP libraries. (Node's own client stops uploading once
 * an answer has arrived, which hides the reset.) Resolves with what it read and any socket error.
 */
function rawPost(size: number, contentType: string): Promise<{ head: string; body: string; error: string | null }> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    let error: string | null = null;
    socket.on('data', (d: Buffer) => (data += d.toString('utf8')));
    socket.on('error', (e: NodeJS.ErrnoException) => (error = e.code ?? e.message));
    socket.on('close', () => {
      const at = data.indexOf('\r\n\r\n');
      resolve({ head: at < 0 ? data : data.slice(0, at), body: at < 0 ? '' : data.slice(at + 4), error });
    });
    socket.write(
      `POST /v1/sessions/s-big/tasks HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: ${contentType}\r\nContent-Length: ${size}\r\n\r\n`,
    );
    let sent = 0;
    const pump = () => {
      while (sent < size && !socket.destroyed) {
        sent += CHUNK.length;
        if (!socket.write(CHUNK)) return void socket.once('drain', pump);
        return void setTimeout(pump, 1);
      }
    };
    pump();
  });
}

test('30 uploads of 2 MB with node:http each get 413 problem+json', async () => {
  const outcomes: string[] = [];
  for (let i = 0; i < 30; i++) {
    const answer = await httpPost(TWO_MB, { 'content-type': 'application/json', 'content-length': TWO_MB }).catch((e: NodeJS.ErrnoException) => ({
      status: 0,
      contentType: '',
      body: e.code ?? String(e),
    }));
    outcomes.push(`${answer.status} ${answer.contentType.split(';')[0]} ${answer.status ? JSON.parse(answer.body).code : answer.body}`);
  }
  expect(outcomes).toEqual(Array(30).fill('413 application/problem+json PAYLOAD_TOO_LARGE'));
});

test('a chunked 2 MB upload (no Content-Length, the limit found while reading) gets its 413 problem', async () => {
  for (let i = 0; i < 5; i++) {
    const answer = await httpPost(TWO_MB, { 'content-type': 'application/json' });
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body)).toMatchObject({ status: 413, code: 'PAYLOAD_TOO_LARGE' });
  }
});

test('30 paced uploads of 2 MB that send their whole body each read the 413 problem, never a reset', async () => {
  expect(TWO_MB).toBeGreaterThan(BODY_LIMIT);
  expect(TWO_MB).toBeLessThanOrEqual(DRAIN_MAX_BYTES);
  const outcomes: string[] = [];
  for (let i = 0; i < 30; i++) {
    const { head, body, error } = await rawPost(TWO_MB, 'application/json');
    const status = head.split('\r\n')[0] ?? '';
    const problem = /content-type: application\/problem\+json/i.test(head) && body ? (JSON.parse(body) as { code?: string }).code : 'no problem';
    outcomes.push(`${status} ${problem}${error ? ` ${error}` : ''}`);
  }
  expect(outcomes).toEqual(Array(30).fill('HTTP/1.1 413 Payload Too Large PAYLOAD_TOO_LARGE'));
});

test('other refusals answered before the body is read (415) arrive whole too', async () => {
  for (let i = 0; i < 5; i++) {
    const { head, body, error } = await rawPost(TWO_MB, 'text/plain');
    expect(error).toBeNull();
    expect(head.split('\r\n')[0]).toBe('HTTP/1.1 415 Unsupported Media Type');
    expect(JSON.parse(body)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
  }
});
