import type { FastifyInstance, FastifyReply } from 'fastify';
import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { ApiError } from '../http/error-catalog';

export const CONSOLE_PATH = '/console';

/**
 * The console's files: `apps/api/console/` (plain HTML, ES modules and CSS,
 * no build step). Resolved from this file, which sits one folder below the
 * package in `src/` and in `dist/` alike; the Docker image copies the folder.
 */
export const CONSOLE_DIR = join(__dirname, '..', '..', 'console');

/**
 * The console runs only its own files: no inline script or style, no other
 * origin, no framing. Its API calls go to this origin (`connect-src 'self'`).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/**
 * `GET /console`: the browser console (sessions, live task trees,
 * conversations, questions and approvals), a static page that calls /v1 with
 * the API key the user enters. The page itself needs no key: it holds no data.
 * Files are read once at start (a fixed set: no path from the request reaches the file system).
 */
export default async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const files = new Map<string, { body: Buffer; type: string }>();
  for (const name of readdirSync(CONSOLE_DIR)) {
    const type = TYPES[extname(name)];
    if (type) files.set(name, { body: readFileSync(join(CONSOLE_DIR, name)), type });
  }
  const index = files.get('index.html');
  if (!index) throw new Error(`console: ${join(CONSOLE_DIR, 'index.html')} is missing`);

  const send = (reply: FastifyReply, file: { body: Buffer; type: string }) =>
    reply.header('content-type', file.type).header('content-security-policy', CONSOLE_CSP).header('cache-control', 'no-cache').send(file.body);

  app.get(CONSOLE_PATH, { schema: { hide: true } }, async (_request, reply) => send(reply, index));
  app.get(`${CONSOLE_PATH}/`, { schema: { hide: true } }, async (_request, reply) => reply.redirect(CONSOLE_PATH));
  app.get<{ Params: { file: string } }>(`${CONSOLE_PATH}/:file`, { schema: { hide: true } }, async (request, reply) => {
    const file = files.get(request.params.file);
    if (!file || request.params.file === 'index.html') throw new ApiError('NOT_FOUND', `no console file ${request.params.file}`);
    return send(reply, file);
  });
}
