/**
 * A Baton worker as users run it (`WorkerApp`: engine, TaskWorker running the
 * agent loop, OpenAI-compatible provider on node:http keep-alive, metrics,
 * reconciler), in this process, with optional instrumentation: the engine's
 * `tasks.transition` (and the turn-boundary script, which records
 * turn.started) are wrapped so a benchmark hears, on a high-resolution
 * clock, when a transition was committed (the script returned).
 */
import type { TransitionRequestLike } from './transition-hook';
import { parseEnv, WorkerApp } from '@baton/worker';
import pino from 'pino';
import { nowMs } from './stats';

export type { TransitionRequestLike };

export interface BatonWorkerOptions {
  redisUrl: string;
  prefix: string;
  providerUrl: string;
  concurrency: number;
  /** More worker environment (RETENTION_MS, RECONCILE_INTERVAL_MS, ...), over the defaults above. */
  env?: Record<string, string>;
  /** Called after a transition script returned ok. */
  onTransition?: (req: TransitionRequestLike, at: number) => void;
}

export async function startBatonWorker(options: BatonWorkerOptions): Promise<WorkerApp> {
  const env = parseEnv({
    REDIS_URL: options.redisUrl,
    BATON_PREFIX: options.prefix,
    WORKER_CONCURRENCY: String(options.concurrency),
    LLM_BASE_URL: `${options.providerUrl}/v1`,
    LLM_API_KEY: 'sk-bench',
    LLM_MODEL: 'fake-model',
    LLM_TIMEOUT_MS: '30000',
    // Whole answers, as the baselines' plain call gets: streaming's cost is measured on its own (--only=stream).
    LLM_STREAM: 'false',
    LOG_LEVEL: 'silent',
    SHUTDOWN_TIMEOUT_MS: '5000',
    ...options.env,
  });
  const app = await WorkerApp.start({ env, logger: pino({ level: 'silent' }) });
  const hook = options.onTransition;
  if (hook) {
    const tasks = app.engine.tasks;
    const original = tasks.transition.bind(tasks);
    tasks.transition = async (req) => {
      const previous = await original(req);
      hook(req, nowMs());
      return previous;
    };
    // turn.started is recorded by the turn-boundary script (ctx.checkpoint(turn)), not by a
    // transition: report it the same way when that script answered "carry on".
    const scripts = app.engine.scripts;
    const turnBoundary = scripts.turnBoundary;
    scripts.turnBoundary = async (sessionId, taskId, token, turn, carry) => {
      const reply = await turnBoundary(sessionId, taskId, token, turn, carry);
      if (reply.kind === 'carryOn' && turn !== undefined) {
        hook({ sessionId, taskId, to: 'running', event: { type: 'turn.started', data: { turn } } }, nowMs());
      }
      return reply;
    };
  }
  return app;
}

/**
 * The parent of a subtask id `<parentId>.<turn>.<i>`, or null for a root. Ids past 128
 * characters take a digest form (`<rootId>..<digest>`, see core's `childTaskId`) whose parent
 * cannot be read from the id; this returns the root for those, which is still non-null, so
 * "is it a subtask" stays right. The benchmarks' trees are far shallower than that.
 */
export function parentOf(taskId: string): string | null {
  const parts = taskId.split('.');
  return parts.length >= 3 ? parts.slice(0, -2).join('.') : null;
}
