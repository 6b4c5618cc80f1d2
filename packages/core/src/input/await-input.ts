import { BatonError, StaleRunnerError } from '../errors';
import { decodeResponse, InputRequestSchema, type InputRequest, type InputResponse } from '../model/pending-input';
import type { Logger } from 'pino';
import type { Scripts } from '../scripts/scripts';
import { AwaitInputSignal, TaskFailure } from '../runtime/signals';

/**
 * `TaskContext.awaitInput`: the delivered response for this tool call, or
 * park (AwaitInputSignal) until there is one. One script decides (ask-input-2):
 * a response delivered while the job slept is returned, never asked again; a
 * wait past `timeoutMs` since the first ask fails the task with INPUT_TIMEOUT.
 * The timeout is durable: the parked job's delay ends at the deadline, and
 * the runner that takes it then finds the time is up.
 */
/** What asking needs of the running task (a TaskContext is one; no import of it, so no cycle). */
export interface AskingRunner {
  readonly engine: { readonly scripts: Pick<Scripts, 'askInput'> };
  readonly sessionId: string;
  readonly taskId: string;
  readonly token: string;
  readonly logger: Logger;
}

export async function awaitInput(ctx: AskingRunner, toolCallId: string, raw: InputRequest, timeoutMs: number): Promise<InputResponse> {
  const request = InputRequestSchema.parse(raw);
  const reply = await ctx.engine.scripts.askInput({
    sessionId: ctx.sessionId,
    taskId: ctx.taskId,
    token: ctx.token,
    toolCallId,
    kind: request.kind,
    request: JSON.stringify({ ...request, toolCallId }),
    timeoutMs,
  });
  switch (reply.kind) {
    case 'delivered':
      return decodeResponse(reply.response);
    case 'parked': {
      const delay = timeoutMs > 0 ? Math.max(0, reply.askedAt + timeoutMs - reply.now) : undefined;
      ctx.logger.info({ toolCallId, kind: request.kind, delayMs: delay }, 'awaiting input: parking');
      throw new AwaitInputSignal(ctx.taskId, toolCallId, delay);
    }
    case 'timedOut':
      throw new TaskFailure('INPUT_TIMEOUT', `no input for tool call ${toolCallId} within AWAITING_INPUT_TIMEOUT_MS (${timeoutMs} ms)`);
    case 'staleToken':
      throw new StaleRunnerError(ctx.taskId, 'await input');
    case 'notRunning':
      throw new BatonError('ILLEGAL_TRANSITION', `task ${ctx.taskId}: await input refused (status ${reply.status})`, { taskId: ctx.taskId });
  }
}
