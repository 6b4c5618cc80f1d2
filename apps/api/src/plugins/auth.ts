import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../http/error-catalog';

/**
 * The /v1 gate: resolves the caller's tenant from `Authorization: Bearer`
 * (or `default` when the API runs open) and refuses everything else with 401
 * before any handler (so before any Redis access).
 */
export function requireTenant(app: FastifyInstance): void {
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const tenant = app.authenticator.tenantOf(request.headers.authorization);
    if (tenant === null) {
      reply.header('www-authenticate', 'Bearer realm="baton"');
      throw new ApiError('UNAUTHORIZED', 'a valid "Authorization: Bearer <secret>" header is required');
    }
    request.tenant = tenant;
  });
}
