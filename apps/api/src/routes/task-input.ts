import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ApiError, ProblemSchema } from '../http/error-catalog';
import { InputBodySchema, InputHeadersSchema, toInputResponse } from '../http/input-schemas';
import { PublicTaskSchema, TaskParamsSchema, toPublicTask } from '../http/schemas';

const security = [{ bearer: [] }];

/** The human in the loop: answer a task's question, or approve or deny its tool call. */
const taskInputRoutes: FastifyPluginAsyncZod = async (app) => {
  const { engine } = app;

  app.post(
    '/tasks/:taskId/input',
    {
      schema: {
        tags: ['tasks'],
        summary: "Answer a task's question, or approve or deny its tool call",
        description:
          'For a task whose status is `awaiting_input`: `{"answer": "..."}` when `pendingInput.kind` is `question`, ' +
          '`{"approved": true|false, "feedback"?: "..."}` when it is `approval`. 202 with the task (still `awaiting_input`, ' +
          '`pendingInput` null) until a worker resumes it; the session stream gets `task.input_received`. ' +
          '409 `task-not-awaiting-input` when the task is not waiting; 409 `input-conflict` when another response was ' +
          'already delivered (or the Idempotency-Key was used with another body); 422 `input-kind-mismatch` for an answer to ' +
          'an approval request or the reverse. The same response again (or the same Idempotency-Key and body) answers 202 with ' +
          '`Idempotent-Replayed: true`.',
        security,
        params: TaskParamsSchema,
        headers: InputHeadersSchema,
        body: InputBodySchema,
        response: {
          202: PublicTaskSchema,
          400: ProblemSchema,
          401: ProblemSchema,
          404: ProblemSchema,
          409: ProblemSchema,
          422: ProblemSchema,
          429: ProblemSchema,
          503: ProblemSchema,
        },
      },
    },
    async (request, reply) => {
      const task = await engine.getTask(request.params.taskId);
      if (!task || task.tenant !== request.tenant) throw new ApiError('TASK_NOT_FOUND', `task ${request.params.taskId} not found`);
      const idempotencyKey = request.headers['idempotency-key'];
      const result = await engine.deliverInput({
        taskId: task.id,
        response: toInputResponse(request.body),
        ...(idempotencyKey === undefined ? {} : { idempotencyKey }),
      });
      request.log.info({ taskId: task.id, toolCallId: result.toolCallId, replayed: result.replayed }, 'input delivered');
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(202).send(toPublicTask(result.task));
    },
  );
};

export default taskInputRoutes;
