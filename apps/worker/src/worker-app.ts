import { Engine, loggerOptions, publishModeCatalog, Reconciler, RedisMemoryMonitor, TaskWorker, type Scripts } from '@baton/core';
import pino, { type Logger } from 'pino';
import { createAgentHandler } from './agent/agent-loop';
import { loadContextWindows } from './agent/condense/context-windows';
import type { Env } from './env';
import { WorkerMetrics } from './metrics';
import { McpTools } from './mcp/mcp-tools';
import { loadMcpSettings } from './mcp/mcp-settings';
import { loadModes, type ModeRegistry } from './modes/modes';
import { AnthropicProvider } from './providers/anthropic/anthropic-provider';
import { loadToolsModule } from './plugins/tools-module';
import { DemoModel } from './providers/demo-model';
import type { ModelProvider } from './providers/model-provider';
import { OpenAiProvider } from './providers/openai-provider';
import { ProviderRegistry, providerKind } from './providers/provider-registry';
import { SharedLimiter } from './providers/shared-limiter';
import { ToolRegistry, type ToolDefinition } from './tools/tool-registry';
import { usageConfigFromEnv } from './agent/usage-metering';

export interface WorkerAppOptions {
  env: Env;
  /** User tools, offered to the modes that list them. */
  tools?: ToolDefinition[];
  /** Replaces the modes built from env (built-ins + MODES_FILE). */
  modes?: ModeRegistry;
  /** Replaces the default provider built from env (LLM_PROVIDER); providers that modes choose are still built from env. */
  provider?: ModelProvider;
  logger?: Logger;
}

/**
 * One worker process's parts, built from its configuration: the engine,
 * the BullMQ task worker running the agent loop, the reconciler and the
 * metrics server. `main.ts` adds signals; tests start it in-process.
 */
export class WorkerApp {
  private metricsServer: { port: number; close(): Promise<void> } | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly env: Env,
    readonly logger: Logger,
    readonly engine: Engine,
    readonly taskWorker: TaskWorker,
    readonly reconciler: Reconciler,
    readonly metrics: WorkerMetrics,
    /** The default provider and those the modes choose (provider-registry). */
    readonly providers: ProviderRegistry,
    readonly redisMemory: RedisMemoryMonitor,
    /** Connected MCP servers (MCP_SERVERS_FILE), closed with the app. */
    readonly mcp?: McpTools,
  ) {}

  static async start(options: WorkerAppOptions): Promise<WorkerApp> {
    const { env } = options;
    const logger = options.logger ?? pino(loggerOptions('baton-worker', env.LOG_LEVEL));
    const modes = options.modes ?? loadModes(env.MODES_FILE);
    ProviderRegistry.check(env, modes);
    const contextWindows = loadContextWindows(env.CONTEXT_WINDOWS_FILE, { contextWindow: env.LLM_CONTEXT_WINDOW, condenseAt: env.CONDENSE_AT });
    const tools = new ToolRegistry(options.tools ?? [], {
      command: { maxTimeoutMs: env.EXECUTE_COMMAND_MAX_TIMEOUT_MS, path: env.EXECUTE_COMMAND_PATH },
    });
    if (env.TOOLS_MODULE) {
      const loaded = await loadToolsModule(env.TOOLS_MODULE);
      for (const tool of loaded) {
        try {
          tools.register(tool);
        } catch (err) {
          throw new Error(`TOOLS_MODULE ${env.TOOLS_MODULE}: ${(err as Error).message}`);
        }
      }
      logger.info({ module: env.TOOLS_MODULE, tools: loaded.map((t) => t.name) }, 'tools module loaded');
    }
    const mcp = env.MCP_SERVERS_FILE ? await McpTools.connect(loadMcpSettings(env.MCP_SERVERS_FILE), logger) : undefined;
    try {
      for (const tool of mcp?.tools ?? []) tools.register(tool);
      const missing = modes.unknownTools((name) => tools.has(name));
      if (missing.length) throw new Error(`modes refer to tools that are not registered:\n  - ${missing.join('\n  - ')}`);
    } catch (err) {
      // MCP stdio servers are child processes: do not leave them behind when the start fails.
      await mcp?.close();
      throw err;
    }

    const metrics = new WorkerMetrics();

    const engine = new Engine(
      env.REDIS_URL,
      {
        prefix: env.BATON_PREFIX,
        gateLeaseMs: env.GATE_LEASE_MS,
        maxDepth: env.MAX_DEPTH,
        maxChildrenPerTask: env.MAX_CHILDREN_PER_TASK,
        retentionMs: env.RETENTION_MS,
        eventsMaxLen: env.EVENTS_MAX_LEN,
        eventsMaxAgeMs: env.EVENTS_MAX_AGE_MS,
        queueShards: env.QUEUE_SHARDS,
      },
      logger,
    );
    // Refuses a QUEUE_SHARDS other than the deployment's while work is queued (before any job is taken).
    await engine.checkQueueShards().catch(async (err: unknown) => {
      await engine.close();
      await mcp?.close();
      throw err;
    });
    const providers = ProviderRegistry.build(env, modes, (providerEnv) => makeProvider(providerEnv, metrics, engine.scripts, logger), options.provider);
    const provider = providers.default;
    if (provider.name === 'demo') {
      logger.warn('LLM_PROVIDER=demo (or no LLM_BASE_URL): using the built-in deterministic demo model (no real LLM is called)');
    } else {
      logger.info(
        { provider: provider.name, providers: providers.kinds(), baseUrl: env.LLM_BASE_URL, model: env.LLM_MODEL, sharedLimiter: env.LLM_SHARED_LIMITER },
        'model provider configured',
      );
    }
    // Past the mark, new roots wait and the memory left goes to the trees already running.
    const redisMemory = new RedisMemoryMonitor(engine.redis, { high: env.REDIS_MEMORY_HIGH, logger }).start();
    metrics.watchRedisMemory(redisMemory);
    const handler = createAgentHandler({
      modes,
      tools,
      provider,
      providerFor: (mode) => providers.forMode(mode),
      defaultModel: env.LLM_MODEL,
      maxTurns: env.MAX_TURNS,
      maxNoToolNudges: env.MAX_NO_TOOL_NUDGES,
      metrics,
      workspaceRoot: env.WORKSPACE_ROOT,
      condense: { windows: contextWindows, keepMessages: env.CONDENSE_KEEP_MESSAGES },
      usage: usageConfigFromEnv(env),
      deltas: { flushMs: env.DELTA_FLUSH_MS, maxEventsPerTurn: env.DELTA_MAX_EVENTS_PER_TURN },
    });
    // The API validates submitted modes against this (last worker to start wins, see mode-catalog).
    await publishModeCatalog(
      engine.redis,
      engine.keys,
      modes.list().map((m) => ({ slug: m.slug, name: m.name, ...(m.whenToUse ? { whenToUse: m.whenToUse } : {}) })),
    );
    const taskWorker = new TaskWorker(engine, handler, {
      concurrency: env.WORKER_CONCURRENCY,
      ...(env.WORKER_QUEUE_SHARDS ? { shards: env.WORKER_QUEUE_SHARDS } : {}),
      lockDuration: env.WORKER_LOCK_DURATION_MS,
      stalledInterval: env.WORKER_STALLED_INTERVAL_MS,
      maxStalledCount: env.WORKER_MAX_STALLED_COUNT,
      autorun: true,
      holdNewRoots: () => redisMemory.isHigh,
      holdRetryMs: env.ROOT_HOLD_RETRY_MS,
      ...(env.AWAITING_INPUT_TIMEOUT_MS === undefined ? {} : { awaitingInputTimeoutMs: env.AWAITING_INPUT_TIMEOUT_MS }),
    });
    taskWorker.on('held', () => metrics.rootHeld());
    taskWorker.workers.forEach((worker, i) => worker.on('active', () => metrics.jobTaken(taskWorker.shards[i]!)));
    await taskWorker.waitUntilReady();
    const reconciler = new Reconciler(engine, { onReport: (report) => metrics.reconciled(report) });
    reconciler.start(env.RECONCILE_INTERVAL_MS);

    const app = new WorkerApp(env, logger, engine, taskWorker, reconciler, metrics, providers, redisMemory, mcp);
    if (env.METRICS_PORT !== undefined) {
      app.metricsServer = await metrics.serve(env.METRICS_PORT);
      logger.info({ port: app.metricsServer.port }, 'metrics at /metrics');
    }
    logger.info(
      { prefix: env.BATON_PREFIX, concurrency: env.WORKER_CONCURRENCY, queueShards: taskWorker.shards, modes: modes.names(), pid: process.pid },
      'worker ready',
    );
    return app;
  }

  /** The default provider (LLM_PROVIDER, or the `provider` option). */
  get provider(): ModelProvider {
    return this.providers.default;
  }

  get metricsPort(): number | undefined {
    return this.metricsServer?.port;
  }

  /**
   * Stops taking jobs and lets running ones end (finish, or park for a
   * subtask) for up to `deadlineMs`; then force-closes. Jobs still running
   * then are not lost: their locks lapse and another worker re-takes them
   * (a model request in flight then may be sent again, under the same key).
   */
  close(deadlineMs = this.env.SHUTDOWN_TIMEOUT_MS): Promise<void> {
    this.closing ??= this.doClose(deadlineMs);
    return this.closing;
  }

  private async doClose(deadlineMs: number): Promise<void> {
    await this.reconciler.stop();
    let timer: NodeJS.Timeout | undefined;
    const graceful = this.taskWorker.close(false).then(() => true);
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), deadlineMs)));
    const inTime = await Promise.race([graceful, late]);
    clearTimeout(timer);
    if (!inTime) {
      this.logger.warn({ deadlineMs }, 'jobs still running at the shutdown deadline; closing anyway (they will be re-taken)');
      await this.taskWorker.close(true);
    }
    this.redisMemory.stop();
    await this.metricsServer?.close();
    this.providers.close();
    await this.mcp?.close();
    await this.engine.close();
  }
}

export { providerKind } from './providers/provider-registry';

/** Longest hold the shared limiter honours at once (a longer one is waited out in steps). */
const LIMITER_MAX_HOLD_MS = 300_000;

function makeProvider(env: Env, metrics: WorkerMetrics, scripts: Scripts, logger: Logger): ModelProvider {
  const kind = providerKind(env);
  if (kind === 'demo') return new DemoModel(env.DEMO_MODEL_LATENCY_MS);
  const limiter = env.LLM_SHARED_LIMITER
    ? new SharedLimiter(scripts, { provider: kind, apiKey: env.LLM_API_KEY, maxHoldMs: LIMITER_MAX_HOLD_MS, logger })
    : undefined;
  const common = {
    ...(limiter ? { limiter } : {}),
    apiKey: env.LLM_API_KEY,
    timeoutMs: env.LLM_TIMEOUT_MS,
    maxAttempts: env.LLM_MAX_ATTEMPTS,
    backoff: { baseMs: env.LLM_BACKOFF_BASE_MS, maxMs: env.LLM_BACKOFF_MAX_MS },
    observer: metrics,
    stream: env.LLM_STREAM,
    // The pid tells apart this host's workers in the provider's logs; the hostname would describe the deployment to a third party.
    userAgent: `baton-worker (pid ${process.pid})`,
  };
  if (kind === 'anthropic') {
    return new AnthropicProvider({
      ...common,
      baseUrl: env.LLM_BASE_URL ?? 'https://api.anthropic.com',
      maxTokens: env.LLM_MAX_TOKENS,
      promptCache: env.LLM_PROMPT_CACHE,
    });
  }
  return new OpenAiProvider({ ...common, baseUrl: env.LLM_BASE_URL ?? 'https://api.openai.com/v1' });
}
