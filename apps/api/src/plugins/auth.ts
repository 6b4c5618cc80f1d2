import type { FastifyInstance, FastifyReply, FastifyRequest, onRequestHookHandler, RouteOptions } from 'fastify';
import { ApiError } from '../http/error-catalog';

async function authenticate(this: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const tenant = this.authenticator.tenantOf(request.headers.authorization);
  if (tenant === null) {
    reply.header('www-authenticate', 'Bearer realm="baton"');
    throw new ApiError('UNAUTHORIZED', 'a valid "Authorization: Bearer <secret>" header is required');
  }
  request.tenant = tenant;
}

/**
 * The /v1 gate: resolves the caller's tenant from `Authorization: Bearer`
 * (or `default` when the API runs open, API_AUTH=none) and refuses everything else with 401
 * before the body is read and before any Redis access.
 *
 * Added as a route hook after the rate limiter's (which is also a route
 * hook, and route hooks run after scope hooks), so that a failed
 * authentication is counted against the client's address first: guessing
 * keys is rate limited.
 */
export function requireTenant(app: FastifyInstance): void {
  app.addHook('onRoute', (route: RouteOptions) => {
    const existing = route.onRequest === undefined ? [] : Array.isArray(route.onRequest) ? route.onRequest : [route.onRequest];
    route.onRequest = [...existing, authenticate as onRequestHookHandler];
  });
}
