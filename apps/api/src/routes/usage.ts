import { EMPTY_USAGE, UsageReader, type Usage } from '@baton/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemSchema } from '../http/error-catalog';
import { TenantUsageSchema, UsageQuerySchema } from '../http/schemas';

/**
 * `GET /v1/usage?from=&to=`: the caller's tenant (from its API key) by UTC
 * day: tokens, turns and cost of committed turns, kept as work happens
 * (tenant-rollup-4.lua), so a read is one pipeline of one hash per day.
 */
const usageRoutes: FastifyPluginAsyncZod = async (app) => {
  const reader = new UsageReader(app.engine.ctx);
  app.get(
    '/usage',
    {
      schema: {
        tags: ['usage'],
        summary: "The caller's tenant usage and cost by UTC day",
        security: [{ bearer: [] }],
        querystring: UsageQuerySchema,
        response: { 200: TenantUsageSchema, 400: ProblemSchema, 401: ProblemSchema, 429: ProblemSchema, 503: ProblemSchema },
      },
    },
    async (request) => {
      const { from, to } = request.query;
      const days = await reader.tenantDays(request.tenant, from, to);
      const usage: Usage = { ...EMPTY_USAGE };
      let cost = 0;
      for (const d of days) {
        for (const k of Object.keys(usage) as (keyof Usage)[]) usage[k] += d.usage[k];
        cost += d.cost ?? 0;
      }
      const allUnpriced = usage.turns > 0 && usage.unpricedTurns === usage.turns;
      return { from, to, days, total: { usage, cost: allUnpriced ? null : Math.round(cost * 1e9) / 1e9 } };
    },
  );
};

export default usageRoutes;
