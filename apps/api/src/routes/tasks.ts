import { isBatonError, isTerminal, ModeCatalogCache, newTaskId, redisFailure, type Task } from '@baton/core';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import { memoryHigh, redisUnavailable } from '../http/redis-unavailable';
import {
  MessagesSchema,
  PublicTaskSchema,
  PublicTaskTreeSchema,
  SessionParamsSchema,
  SubmitBodySchema,
  SubmitHeadersSchema,
  TaskParamsSchema,
  toPublicExport,
  toPublicTask,
  toPublicTree,
  TreeExportDocumentSchema,
} from '../http/schemas';

const security = [{ bearer: [] }];
const problems = { 400: ProblemSchema, 401: ProblemSchema, 404: ProblemSchema, 429: ProblemSchema, 503: ProblemSchema };

/** Submit, inspect and cancel tasks. Another tenant's task is indistinguishable from a missing one. */
const taskRoutes: FastifyPluginAsyncZod = async (app) => {
  const { engine } = app;
  const modeCatalog = new ModeCatalogCache(engine.redis, engine.keys);

  async function ownedTask(taskId: string, tenant: string): Promise<Task> {
    const task = await engine.getTask(taskId);
    if (!task || task.tenant !== tenant) throw new ApiError('TASK_NOT_FOUND', `task ${taskId} not found`);
    return task;
  }

  app.post(
    '/sessions/:sessionId/tasks',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Submit a root task to a session',
        description:
          'onBusy: `enqueue` (default) waits its turn in the session lane; `reject` answers 409 naming the active task when a root runs or waits; ' +
          '`interrupt` cancels the running tree and the queued roots, then runs this one. With `Idempotency-Key`, a replay with the same body ' +
          'answers 200 with the first task and `Idempotent-Replayed: true`; another body answers 422. A session holds at most ' +
          'MAX_QUEUED_ROOTS_PER_SESSION queued roots: past it, `enqueue` answers 429 `session-queue-full` (no Retry-After: it frees up as roots run).',
        security,
        params: SessionParamsSchema,
        headers: SubmitHeadersSchema,
        body: SubmitBodySchema,
        response: { 200: PublicTaskSchema, 201: PublicTaskSchema, ...problems, 409: ProblemSchema, 413: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (request, reply) => {
      const { sessionId } = request.params;
      const { prompt, mode, onBusy, metadata, budget, onBudget } = request.body;
      const idempotencyKey = request.headers['idempotency-key'];
      const memory = app.redisMemory;
      if (memory.isHigh && memory.reading) throw memoryHigh(memory.reading, memory.high);
      // The workers publish the modes they run. Before any has (a fresh deployment, the API up first), any
      // well-formed slug is accepted: refusing would make the API unusable until a worker starts, and a
      // worker fails a task of a mode it lacks with UNKNOWN_MODE anyway.
      // The request's time budget against Redis starts at its arrival (the rate limit already spent some).
      const receivedAt = Date.now() - reply.elapsedTime;
      const known = await modeCatalog.check(mode).catch((err: unknown) => {
        const failure = redisFailure(err);
        if (failure) throw redisUnavailable(failure, {});
        throw err;
      });
      if (known.status === 'unknown') {
        throw new ApiError('UNKNOWN_MODE', `unknown mode "${mode}"; known modes: ${known.modes.join(', ')}`, { modes: known.modes });
      }
      // Chosen here so that a submission of unknown outcome (sent, answer lost) can name the task to look up.
      const taskId = newTaskId();
      const { task, replayed, cancelled } = await engine
        .submit(
          {
            sessionId,
            prompt,
            mode,
            onBusy,
            tenant: request.tenant,
            taskId,
            ...(metadata === undefined ? {} : { metadata }),
            ...(budget === undefined ? {} : { budget }),
            ...(onBudget === undefined ? {} : { onBudget }),
            ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
          },
          { receivedAt },
        )
        .catch((err: unknown) => {
          const failure = redisFailure(err);
          // With a key, retrying with it is the answer (the task may be an earlier one); without, the id to look up.
          if (failure) throw redisUnavailable(failure, failure.maybeApplied && idempotencyKey === undefined ? { taskId } : {});
          return asSessionNotFound(sessionId)(err);
        });
      if (cancelled.length > 0) request.log.info({ sessionId, taskId: task.id, cancelled }, 'interrupt cancelled tasks');
      // The listing is a hint kept beside the engine's keys: failing to update it must not refuse a recorded
      // submission, nor wait (written in batches after the answer; listed at once by this replica).
      void app.sessionIndex.record(request.tenant, sessionId).catch((err: unknown) => {
        request.log.warn({ err, sessionId }, 'recording the session in its tenant list failed; it is listed again after its next submission');
      });
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(replayed ? 200 : 201).send(toPublicTask(task));
    },
  );

  app.get(
    '/tasks/:taskId',
    {
      schema: { tags: ['tasks'], summary: 'Get a task', security, params: TaskParamsSchema, response: { 200: PublicTaskSchema, ...problems } },
    },
    async (request) => toPublicTask(await ownedTask(request.params.taskId, request.tenant)),
  );

  app.get(
    '/tasks/:taskId/messages',
    {
      schema: {
        tags: ['tasks'],
        summary: "A task's conversation (OpenAI chat format)",
        security,
        params: TaskParamsSchema,
        response: { 200: MessagesSchema, ...problems },
      },
    },
    async (request) => {
      const task = await ownedTask(request.params.taskId, request.tenant);
      const messages = await engine.getMessages(task.id);
      return { messages: messages ?? [] };
    },
  );

  app.get(
    '/tasks/:taskId/tree',
    {
      schema: {
        tags: ['tasks'],
        summary: 'A task with its descendants, nested',
        security,
        params: TaskParamsSchema,
        response: { 200: PublicTaskTreeSchema, ...problems },
      },
    },
    async (request) => {
      const task = await ownedTask(request.params.taskId, request.tenant);
      const tree = await engine.getTree(task.id);
      if (!tree) throw new ApiError('TASK_NOT_FOUND', `task ${task.id} not found`);
      return toPublicTree(tree);
    },
  );

  app.post(
    '/tasks/:taskId/cancel',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Cancel a task and all its descendants',
        description: 'Idempotent: cancelling a cancelled task answers 202 again. 409 when the task already completed or failed.',
        security,
        params: TaskParamsSchema,
        response: { 202: PublicTaskSchema, ...problems, 409: ProblemSchema },
      },
    },
    async (request, reply) => {
      const task = await ownedTask(request.params.taskId, request.tenant);
      const { task: after } = await engine.cancel(task.id);
      return reply.code(202).send(toPublicTask(after));
    },
  );

  app.delete(
    '/tasks/:taskId',
    {
      schema: {
        tags: ['tasks'],
        summary: "Delete a finished root task's tree",
        description:
          'Deletes the root task and all its descendants: task records, conversations, committed model responses and jobs. ' +
          '204 when deleted, then 404. 409 `task-not-terminal` while the tree has not finished (cancel it first); ' +
          '409 `task-not-root` for a subtask (delete its root, named in `rootId`). Finished trees also expire by themselves ' +
          'after the retention period (`RETENTION_MS`).',
        security,
        params: TaskParamsSchema,
        response: { 204: z.undefined().describe('Deleted'), ...problems, 409: ProblemSchema },
      },
    },
    async (request, reply) => {
      const task = await ownedTask(request.params.taskId, request.tenant);
      const outcome = await engine.deleteTree(task.id);
      switch (outcome) {
        case 'deleted':
          request.log.info({ taskId: task.id, sessionId: task.sessionId }, 'task tree deleted');
          return reply.code(204).send();
        case 'not_found':
          throw new ApiError('TASK_NOT_FOUND', `task ${task.id} not found`);
        case 'not_terminal':
          throw new ApiError(
            'TASK_NOT_TERMINAL',
            isTerminal(task.status)
              ? `task ${task.id} is ${task.status} but its worker has not stopped yet: retry in a moment`
              : `the tree of task ${task.id} has not finished (the task is ${task.status}): cancel it first, or wait until it ends`,
            { taskId: task.id, status: task.status },
          );
        case 'not_root':
          throw new ApiError('TASK_NOT_ROOT', `task ${task.id} is a subtask of ${task.rootId}: delete the root task, which deletes its whole tree`, {
            taskId: task.id,
            rootId: task.rootId,
          });
        default:
          return assertNever(outcome);
      }
    },
  );

  app.get(
    '/tasks/:taskId/export',
    {
      schema: {
        tags: ['tasks'],
        summary: 'Export a task tree: tasks, every conversation and the events, as one JSON document',
        description:
          'For archiving a tree before it expires or is deleted. Served as an attachment (`baton-<taskId>.json`). ' +
          'Works on a running tree too (a snapshot).',
        security,
        params: TaskParamsSchema,
        response: { 200: TreeExportDocumentSchema, ...problems },
      },
    },
    async (request, reply) => {
      const task = await ownedTask(request.params.taskId, request.tenant);
      const doc = await engine.exportTree(task.id);
      if (!doc) throw new ApiError('TASK_NOT_FOUND', `task ${task.id} not found`);
      // Ids are [A-Za-z0-9._-] only, so the file name needs no quoting beyond the quotes.
      reply.header('content-disposition', `attachment; filename="baton-${task.id}.json"`);
      return toPublicExport(doc);
    },
  );
};

/**
 * The engine refuses a submit to a session of another tenant, or to one being
 * deleted, as "not found": one answer for both, so it tells another tenant nothing.
 */
function asSessionNotFound(sessionId: string): (err: unknown) => never {
  return (err) => {
    if (isBatonError(err, 'TASK_NOT_FOUND') && err.details.sessionId === sessionId) {
      throw new ApiError('SESSION_NOT_FOUND', `session ${sessionId} not found (it belongs to another tenant, or is being deleted)`);
    }
    throw err;
  };
}

function assertNever(value: never): never {
  throw new Error(`unexpected outcome ${String(value)}`);
}

export default taskRoutes;
