import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

/**
 * A minimal JSON POST over node:http/https with keep-alive agents. Measured
 * here, Node 20's global fetch reached about a quarter of the request rate
 * of `http` with a keep-alive agent against the same local server.
 */

export interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Thrown when the per-attempt timeout fires (the socket is destroyed). */
export class HttpTimeoutError extends Error {
  constructor(ms: number) {
    super(`no response within ${ms} ms`);
    this.name = 'HttpTimeoutError';
  }
}

export class HttpClient {
  private readonly httpAgent = new HttpAgent({ keepAlive: true, maxSockets: 256 });
  private readonly httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 256 });

  /**
   * POSTs `body` as JSON. Rejects with the signal's reason on abort, with
   * HttpTimeoutError after `timeoutMs`, or with the socket error.
   */
  postJson(url: URL, headers: Record<string, string>, body: unknown, options: { signal: AbortSignal; timeoutMs: number }): Promise<HttpReply> {
    const payload = Buffer.from(JSON.stringify(body));
    const secure = url.protocol === 'https:';
    const send = secure ? httpsRequest : httpRequest;
    return new Promise<HttpReply>((resolve, reject) => {
      const { signal, timeoutMs } = options;
      if (signal.aborted) return reject(signal.reason);
      const req = send(url, {
        method: 'POST',
        agent: secure ? this.httpsAgent : this.httpAgent,
        headers: { 'content-type': 'application/json', accept: 'application/json', 'content-length': String(payload.length), ...headers },
      });
      const fail = (err: unknown) => {
        cleanup();
        reject(err);
      };
      const onAbort = () => {
        req.destroy();
        fail(signal.reason);
      };
      const timer = setTimeout(() => {
        req.destroy();
        fail(new HttpTimeoutError(timeoutMs));
      }, timeoutMs);
      const cleanup = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', fail);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', fail);
        res.on('end', () => {
          cleanup();
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(payload);
    });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }
}
