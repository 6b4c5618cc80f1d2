import rateLimit from '@fastify/rate-limit';
import { isIPv6 } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { ApiConfig } from '../env';
import { ApiError } from '../http/error-catalog';

/**
 * The bucket of an IPv6 client is its /64: one host usually holds a whole
 * /64, so counting single addresses would let it rotate through them.
 */
export function addressBucket(ip: string): string {
  if (!isIPv6(ip) || ip.includes('.')) return ip;
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/**
 * Rate limits, counted in Redis so that they hold across API replicas (one
 * script call per request, on an expiring key under `keys.rateLimitPrefix()`):
 * a request with a valid key counts against its tenant (RATE_LIMIT_MAX), any
 * other one against its client address (RATE_LIMIT_ANON_MAX). This runs before
 * authentication, so a wrong key is counted too and guessing keys is slow,
 * while an attacker sharing a tenant's address does not use up its budget.
 *
 * Registered after the services (it needs the engine's Redis connection) and
 * before the routes: its route hook runs before the /v1 auth hook. When Redis
 * fails, the counter's error goes to the error handler, which answers 503 at
 * once: letting the request through would make it wait a second command
 * timeout in the route (every route that does work needs Redis), doubling the
 * time to the answer. Health routes are not limited, so liveness holds.
 */
export default fp<{ config: ApiConfig }>(
  async function rateLimits(app: FastifyInstance, { config }) {
    const { max, anonMax, windowMs } = config.rateLimit;
    const bucket = (request: FastifyRequest): string => {
      // An open API (API_AUTH=none) has no tenants and no failed authentication: each address gets the tenant budget.
      if (app.authenticator.open) return `o:${addressBucket(request.ip)}`;
      const tenant = app.authenticator.tenantOf(request.headers.authorization);
      return tenant === null ? `a:${addressBucket(request.ip)}` : `t:${tenant}`;
    };
    await app.register(rateLimit, {
      global: true,
      redis: app.engine.redis,
      nameSpace: app.engine.keys.rateLimitPrefix(),
      skipOnError: false,
      timeWindow: windowMs,
      keyGenerator: bucket,
      max: (_request, key) => (key.startsWith('a:') ? anonMax : max),
      errorResponseBuilder: (_request, ctx) =>
        new ApiError('RATE_LIMITED', `rate limit of ${ctx.max} requests per ${windowMs} ms reached; retry in ${ctx.after}`),
    });
  },
  { name: 'baton-rate-limit', dependencies: ['baton-services'] },
);
