import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { FastifyAdapter } from '@bull-board/fastify';
import type { FastifyInstance } from 'fastify';
import { basicAuthMatches } from '../http/authenticator';
import { sendProblem } from '../plugins/error-handler';
import { relaxCsp } from '../plugins/external';

export const DASHBOARD_PATH = '/admin/queues';

/**
 * Bull Board over Baton's task queues, one entry per queue shard (flows visible:
 * subtask jobs are BullMQ children of their parent's job, in the same shard), behind basic auth. Registered only when
 * DASHBOARD_PASSWORD is set; otherwise the path is a plain 404.
 *
 * Read-only on purpose: retrying, promoting or removing a job by hand would
 * bypass the engine's scripts (lanes, leases, runner fences); use the API's
 * cancel and pause/resume instead.
 */
export default async function adminQueues(app: FastifyInstance, opts: { user: string; password: string }): Promise<void> {
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: app.engine.ctx.queues.queues.map(
      (queue, shard, all) =>
        new BullMQAdapter(queue, {
          readOnlyMode: true,
          description:
            all.length === 1 ? 'Baton tasks (root jobs and subtask flows)' : `Baton tasks, queue shard ${shard} of ${all.length} (prefix ${queue.opts.prefix})`,
          // Every shard's queue is named `tasks`, and Bull Board keys queues by `<prefix><name>`: shard 0 keeps
          // today's `tasks` (and its URL), shard i > 0 is `shard<i>-tasks`.
          ...(shard === 0 ? {} : { prefix: `shard${shard}-` }),
          ...(all.length === 1 ? {} : { displayName: `tasks (shard ${shard})` }),
        }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Baton' } },
  });

  app.addHook('onRoute', relaxCsp);
  app.addHook('onRequest', async (request, reply) => {
    if (!basicAuthMatches(request.headers.authorization, opts.user, opts.password)) {
      // Answered here, not thrown: Bull Board installs its own error handler for its routes.
      reply.header('www-authenticate', 'Basic realm="baton dashboard", charset="UTF-8"');
      return sendProblem(reply, 'UNAUTHORIZED', 'dashboard credentials required');
    }
  });
  await app.register(serverAdapter.registerPlugin(), { prefix: DASHBOARD_PATH });
}
