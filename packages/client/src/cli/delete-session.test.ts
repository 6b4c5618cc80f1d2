import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { runCli } from './run-cli';

/**
 * `baton delete-session` against a real HTTP server that answers the DELETE
 * as scripted, so that each way a deletion can go (still stopping for a
 * while, stopping past the bound, finished by an earlier request) happens on
 * cue; the real API cannot be made to hold a runner for a given time. The
 * command against the real API and worker: cli.e2e.test.ts.
 */
type Answer = { status: 202 } | { status: 204 } | { status: 404 };

async function serve(answers: (n: number) => Answer) {
  const requests: { method: string; url: string; authorization: string | undefined }[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: req.headers.authorization });
    const answer = answers(requests.length);
    if (answer.status === 202) {
      res.writeHead(202, { 'content-type': 'application/json' }).end(JSON.stringify({ sessionId: 's1', state: 'stopping' }));
    } else if (answer.status === 204) {
      res.writeHead(204).end();
    } else {
      const problem = { type: 'urn:baton:problem:session-not-found', title: 'Session not found', status: 404, detail: 'session s1 not found' };
      res.writeHead(404, { 'content-type': 'application/problem+json' }).end(JSON.stringify(problem));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

async function run(url: string, args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(['delete-session', 's1', ...args], {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: { BATON_URL: url, BATON_API_KEY: 'secret-key-01' },
  });
  return { code, stdout, stderr };
}

describe('baton delete-session', () => {
  it('repeats the DELETE while it answers 202, then prints the deletion (exit 0)', async () => {
    const srv = await serve((n) => (n < 3 ? { status: 202 } : { status: 204 }));
    try {
      const out = await run(srv.url, []);
      expect(out).toEqual({ code: 0, stdout: JSON.stringify({ sessionId: 's1', state: 'deleted' }, null, 2) + '\n', stderr: '' });
      expect(srv.requests).toEqual(Array.from({ length: 3 }, () => ({ method: 'DELETE', url: '/v1/sessions/s1', authorization: 'Bearer secret-key-01' })));
    } finally {
      await srv.close();
    }
  });

  it('a 404 after a 202 means an earlier DELETE finished it: deleted (exit 0)', async () => {
    const srv = await serve((n) => (n === 1 ? { status: 202 } : { status: 404 }));
    try {
      const out = await run(srv.url, []);
      expect(out.code).toBe(0);
      expect(JSON.parse(out.stdout)).toEqual({ sessionId: 's1', state: 'deleted' });
      expect(srv.requests).toHaveLength(2);
    } finally {
      await srv.close();
    }
  });

  it('still stopping when --wait runs out: prints the state, says so, exit 4', async () => {
    const srv = await serve(() => ({ status: 202 }));
    try {
      const started = Date.now();
      const out = await run(srv.url, ['--wait', '0.5']);
      const tookMs = Date.now() - started;
      expect(out.code).toBe(4);
      expect(JSON.parse(out.stdout)).toEqual({ sessionId: 's1', state: 'stopping' });
      expect(out.stderr).toBe('baton: session s1 is still stopping after 0.5s; it is deleted once its running task stops\n');
      expect(tookMs).toBeGreaterThanOrEqual(500);
      // Pauses of 100, 200, then what is left of the 500 ms: a handful of requests, not a busy loop.
      expect(srv.requests.length).toBeGreaterThanOrEqual(2);
      expect(srv.requests.length).toBeLessThanOrEqual(5);
    } finally {
      await srv.close();
    }
  });

  it('a first 404 is an error (exit 3): nothing of that name to delete', async () => {
    const srv = await serve(() => ({ status: 404 }));
    try {
      const out = await run(srv.url, []);
      expect(out).toMatchObject({ code: 3, stdout: '' });
      expect(out.stderr).toBe('baton: 404 Session not found: session s1 not found (urn:baton:problem:session-not-found)\n');
    } finally {
      await srv.close();
    }
  });
});
