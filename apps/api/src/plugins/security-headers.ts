import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

type HeaderMiddleware = ReturnType<typeof helmet>;

/** A route's own helmet options (`config.helmet`), e.g. no CSP for pages with inline scripts (see relaxCsp). */
interface HelmetRouteConfig {
  helmet?: HelmetOptions;
}

/**
 * Helmet's security headers on every response, set on the raw response at
 * `onRequest` (so they also go out on hijacked replies such as event
 * streams; a header the route sets itself wins). The same headers as
 * `@fastify/helmet` with `global: true`, but each helmet middleware is built
 * once (per route options), not on every request: building one parses its
 * CSP directives and allocates a dozen closures, a sizeable part of a small
 * request's CPU.
 */
export default fp(
  async function securityHeaders(app: FastifyInstance) {
    const everywhere = helmet();
    const byRouteOptions = new WeakMap<HelmetOptions, HeaderMiddleware>();
    const middlewareOf = (options: HelmetOptions): HeaderMiddleware => {
      let middleware = byRouteOptions.get(options);
      if (!middleware) byRouteOptions.set(options, (middleware = helmet(options)));
      return middleware;
    };
    app.addHook('onRequest', (request, reply, done) => {
      const options = (request.routeOptions.config as HelmetRouteConfig).helmet;
      // Helmet's `next` takes `unknown`; it passes only what a header function threw (an Error).
      (options ? middlewareOf(options) : everywhere)(request.raw, reply.raw, done as (err?: unknown) => void);
    });
  },
  { name: 'baton-security-headers' },
);
