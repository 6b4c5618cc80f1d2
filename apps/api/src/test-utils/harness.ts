import { Engine, TaskWorker, type EngineOptions, type TaskContext, type TaskHandler } from '@baton/core';
import { cleanupPrefix, deferred, REDIS_URL, testPrefix, type Deferred } from '@baton/testkit';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pino from 'pino';
import { buildApp } from '../app';
import { parseEnv } from '../env';

/**
 * A deterministic in-process worker for route tests (not an LLM). Each task:
 * appends the user prompt, runs one gated "model" turn, and completes with
 * `echo: <prompt>`. A prompt `hold:<name>` waits until the test calls
 * `release(name)` (or the task is cancelled); `stubborn:<name>` waits for
 * `release(name)` only, ignoring cancellation (a runner that is slow to stop); `fail:<msg>` fails the task;
 * `spawn:<n>[:<child prompt>]` runs n sequential `code` subtasks first (prompt `child <i>` by default)
 * and completes with their results; `nest:<n>:<leaf prompt>` builds a chain n subtasks deep whose
 * deepest task runs `<leaf prompt>`.
 */
export class ScriptedModel {
  private readonly holds = new Map<string, Deferred<void>>();
  private readonly startedWaiters = new Map<string, Deferred<string>>();
  private readonly called = new Set<string>();

  /** Whether the task ever reached its "model call". */
  everCalled(taskId: string): boolean {
    return this.called.has(taskId);
  }

  private hold(name: string): Deferred<void> {
    let d = this.holds.get(name);
    if (!d) this.holds.set(name, (d = deferred()));
    return d;
  }

  /** Resolves with the task id once a task holding on `name` has started its model call. */
  started(name: string): Promise<string> {
    let d = this.startedWaiters.get(name);
    if (!d) this.startedWaiters.set(name, (d = deferred<string>()));
    return d.promise;
  }

  release(name: string): void {
    this.hold(name).resolve();
  }

  readonly handler: TaskHandler = async (ctx: TaskContext) => {
    const prompt = ctx.task.prompt;
    const messages = await ctx.messages();
    if (messages.length === 0) await ctx.append(0, [{ role: 'user', content: prompt }]);
    const spawn = /^spawn:(\d+)(?::(.*))?$/.exec(prompt);
    const nest = /^nest:(\d+):(.*)$/.exec(prompt);
    const results: string[] = [];
    if (nest) {
      const below = Number(nest[1]) - 1;
      const outcome = await ctx.subtask({ key: '1.0', mode: 'code', prompt: below > 0 ? `nest:${below}:${nest[2]!}` : nest[2]! });
      results.push(outcome.status === 'completed' ? outcome.result : outcome.status);
    }
    if (spawn) {
      for (let i = 0; i < Number(spawn[1]); i++) {
        const outcome = await ctx.subtask({ key: `1.${i}`, mode: 'code', prompt: spawn[2] ?? `child ${i}` });
        results.push(outcome.status === 'completed' ? outcome.result : outcome.status);
      }
    }
    await ctx.checkpoint();
    const { response } = await ctx.gate(1, async (signal) => {
      this.called.add(ctx.taskId);
      const held = /^(hold|stubborn):(.*)$/.exec(prompt);
      if (held) {
        const name = held[2]!;
        let started = this.startedWaiters.get(name);
        if (!started) this.startedWaiters.set(name, (started = deferred<string>()));
        started.resolve(ctx.taskId);
        await new Promise<void>((resolve, reject) => {
          if (held[1] === 'hold') {
            if (signal.aborted) return reject(signal.reason);
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          }
          void this.hold(name).promise.then(resolve);
        });
      }
      return spawn || nest ? `children: ${results.join(', ')}` : `echo: ${prompt}`;
    });
    const length = (await ctx.messages()).length;
    await ctx.append(length, [{ role: 'assistant', content: response }]);
    if (prompt.startsWith('fail:')) return { status: 'failed', error: { code: 'SCRIPTED', message: prompt.slice(5) } };
    return { status: 'completed', result: response };
  };
}

export interface HarnessOptions {
  env?: Record<string, string>;
  /** Start an in-process TaskWorker running ScriptedModel. */
  worker?: boolean;
  /** Engine options of the shared engine (limits, ...); the prefix is the harness's. */
  engine?: EngineOptions;
}

export interface Harness {
  app: FastifyInstance;
  engine: Engine;
  model: ScriptedModel;
  prefix: string;
  redis: Redis;
  /** Every Redis key of this test's prefix (Baton's and BullMQ's), except the rate-limit counters (most requests write one). */
  keys(): Promise<string[]>;
  /** The rate-limit counters of this test's prefix. */
  rateLimitCounters(): Promise<string[]>;
  /** One /metrics scrape with the harness's METRICS_TOKEN. */
  scrape(): Promise<string>;
  close(): Promise<void>;
}

/** The /metrics bearer token of every harness app (unless the test's env sets another). */
export const HARNESS_METRICS_TOKEN = 'harness-metrics-token-1';

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const prefix = testPrefix('api');
  // Tests without API_KEYS run the API open, explicitly (it refuses to start otherwise).
  const auth = options.env?.API_KEYS ? {} : { API_AUTH: 'none' };
  const config = parseEnv({ REDIS_URL, BATON_PREFIX: prefix, LOG_LEVEL: 'silent', METRICS_TOKEN: HARNESS_METRICS_TOKEN, ...auth, ...options.env });
  const logger = pino({ level: 'silent' });
  const engine = new Engine(REDIS_URL, { maxQueuedRootsPerSession: config.maxQueuedRootsPerSession, ...options.engine, prefix }, logger);
  const model = new ScriptedModel();
  const worker = options.worker ? new TaskWorker(engine, model.handler, { concurrency: 4 }) : null;
  if (worker) await worker.waitUntilReady();
  const app = await buildApp(config, { engine, logger });
  const redis = new Redis(REDIS_URL);
  const scan = async (pattern: string) => {
    const out: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      out.push(...keys);
    } while (cursor !== '0');
    return out;
  };
  return {
    app,
    engine,
    model,
    prefix,
    redis,
    keys: async () => {
      const counters = engine.keys.rateLimitPrefix();
      return [...(await scan(`${prefix}:*`)), ...(await scan(`{${prefix}}:*`))].filter((k) => !k.startsWith(counters)).sort();
    },
    rateLimitCounters: async () => (await scan(`${engine.keys.rateLimitPrefix()}*`)).sort(),
    scrape: async () => {
      const res = await app.inject({ url: '/metrics', headers: { authorization: `Bearer ${config.metrics.token}` } });
      if (res.statusCode !== 200) throw new Error(`/metrics answered ${res.statusCode}`);
      return res.body;
    },
    async close() {
      await app.close();
      await worker?.close(true);
      await engine.close();
      await cleanupPrefix(prefix);
      redis.disconnect();
    },
  };
}

/** Resolves when the task reaches one of `statuses`, from the session's event stream (no polling). */
export async function waitForTask(engine: Engine, taskId: string, statuses: string[], timeoutMs = 15_000): Promise<void> {
  const task = await engine.getTask(taskId);
  if (!task) throw new Error(`no task ${taskId}`);
  // Already there: return before opening a connection (closing one still in its ready
  // check makes ioredis schedule a reconnect that outlives the test).
  if (statuses.includes(task.status)) return;
  const connection = engine.redis.duplicate();
  const deadline = Date.now() + timeoutMs;
  try {
    let after = '0';
    for (;;) {
      const current = await engine.getTask(taskId);
      if (current && statuses.includes(current.status)) return;
      if (Date.now() > deadline) throw new Error(`task ${taskId} is ${current?.status}, not ${statuses.join('|')}`);
      const events = await engine.events.waitFor(connection, task.sessionId, after, 1000);
      if (events.length) after = events[events.length - 1]!.id;
    }
  } finally {
    connection.disconnect();
  }
}
