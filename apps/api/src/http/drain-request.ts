import type { IncomingMessage } from 'node:http';

/** How much of an unread request body the API reads and discards before it answers an error. */
export const DRAIN_MAX_BYTES = 8 * 1024 * 1024;
/** How long it waits for that body at most (a client trickling bytes cannot hold the answer longer). */
export const DRAIN_TIMEOUT_MS = 5_000;

/**
 * Reads and discards what is left of a request body, up to `maxBytes` more
 * and `timeoutMs`; resolves true when the whole request was read.
 *
 * Why: an error answered before the body was read (413 on `Content-Length`,
 * 401, 415, ...) is sent with `Connection: close`, and closing a socket with
 * unread bytes in its receive buffer makes the kernel send a reset. A client
 * still uploading then gets EPIPE/ECONNRESET, and the reset can discard the
 * answer it had not read yet (measured: most paced 2 MB uploads lost their
 * 413). Once the body is read, the close is a plain FIN and the answer
 * arrives. A body declared larger than the bound is not read at all: such a
 * client may see a reset, which is the price of not reading unbounded data.
 */
export function drainRequest(req: IncomingMessage, maxBytes = DRAIN_MAX_BYTES, timeoutMs = DRAIN_TIMEOUT_MS): Promise<boolean> {
  if (req.complete || req.readableEnded) return Promise.resolve(true);
  if (req.destroyed) return Promise.resolve(false);
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const finish = (whole: boolean) => {
      clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onStop);
      req.off('close', onStop);
      resolve(whole);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > maxBytes) finish(false);
    };
    const onEnd = () => finish(true);
    const onStop = () => finish(req.complete || req.readableEnded);
    const timer = setTimeout(() => finish(false), timeoutMs);
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('error', onStop);
    req.once('close', onStop);
    req.resume();
  });
}
