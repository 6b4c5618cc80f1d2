import { MAX_DEPTH_CAP, MAX_QUEUE_SHARDS } from '@baton/core';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The worker's configuration: `process.env` is parsed here, once, at start.
 * Nothing else in the worker reads `process.env`. Every variable is
 * documented in `apps/worker/.env.example`.
 */

const int = (min: number) => z.coerce.number().int().min(min);

export const EnvSchema = z
  .object({
    /** `redis[s]://...`, or `redis+cluster://host:port,host:port` (Redis Cluster seed nodes, see @baton/core connectionFromUrl). */
    REDIS_URL: z
      .union([z.url({ protocol: /^rediss?$/ }), z.string().regex(/^redis\+cluster:\/\/[A-Za-z0-9.-]+:\d+(,[A-Za-z0-9.-]+:\d+)*$/)])
      .default('redis://127.0.0.1:6379'),
    BATON_PREFIX: z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, . _ - only')
      .default('baton'),
    /** Jobs this worker runs at once, split evenly (rounded up) over the queue shards it consumes. */
    WORKER_CONCURRENCY: int(1).default(16),
    /** Task queues, each with its own hash tag (spread over a Redis Cluster's masters). Same on API and workers. */
    QUEUE_SHARDS: int(1).max(MAX_QUEUE_SHARDS).default(1),
    /**
     * The queue shards this worker consumes, e.g. `0,2` (each below QUEUE_SHARDS); unset: every shard.
     * Every shard needs at least one worker that consumes it, or its sessions never run.
     */
    WORKER_QUEUE_SHARDS: z
      .string()
      .regex(/^\s*\d+\s*(,\s*\d+\s*)*$/, 'comma-separated shard numbers, e.g. "0,2"')
      .transform((v) => [...new Set(v.split(',').map((s) => Number(s.trim())))].sort((a, b) => a - b))
      .optional(),
    /**
     * `openai` (chat completions), `anthropic` (Messages API) or `demo` (the built-in deterministic
     * model). Unset: `openai` when LLM_BASE_URL is set, else `demo`.
     */
    LLM_PROVIDER: z.enum(['openai', 'anthropic', 'demo']).optional(),
    /** The provider's base URL: OpenAI-compatible `.../v1`, or Anthropic's (default https://api.anthropic.com). */
    LLM_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    /** `max_tokens` of each Anthropic request (the Messages API requires one). */
    LLM_MAX_TOKENS: int(1).default(8192),
    /** Anthropic prompt caching (`cache_control` on the system prompt, tools and conversation prefix). */
    LLM_PROMPT_CACHE: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    LLM_API_KEY: z.string().optional(),
    /**
     * Per-provider settings, for modes that choose a provider (a mode's `provider`, see
     * providers/provider-registry). Unset: the default provider's come from LLM_BASE_URL /
     * LLM_API_KEY; another provider is configured when its key or its base URL is set.
     */
    OPENAI_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    OPENAI_API_KEY: z.string().optional(),
    ANTHROPIC_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
    ANTHROPIC_API_KEY: z.string().optional(),
    LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
    /** Per attempt. */
    LLM_TIMEOUT_MS: int(100).default(120_000),
    /** Total attempts per turn, the first included. */
    LLM_MAX_ATTEMPTS: int(1).default(5),
    /** Base of the jittered exponential backoff between attempts. */
    LLM_BACKOFF_BASE_MS: int(1).default(500),
    LLM_BACKOFF_MAX_MS: int(1).default(30_000),
    /**
     * One rate limiter in Redis for all workers, per provider account (API key hash) and model, fed by
     * the answers' rate-limit headers: after a 429 every worker waits for the reset. `false`: each worker backs off alone.
     */
    LLM_SHARED_LIMITER: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    /**
     * Stream model answers (`stream: true`): deltas reach the turn's `onDelta` as they come, and LLM_TIMEOUT_MS becomes an
     * idle timeout once the stream runs (restarted by every piece). A stream cut mid-way is retried under the same
     * Idempotency-Key. The committed turn is the same either way. `false`: whole answers.
     */
    LLM_STREAM: z
      .enum(['true', 'false'])
      .default('true')
      .transform((v) => v === 'true'),
    MODES_FILE: z.string().optional(),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    MAX_TURNS: int(1).default(50),
    /** Deepest subtask level (a root is depth 0); a deeper new_task is answered with a tool error. Same on every worker. */
    MAX_DEPTH: int(1).max(MAX_DEPTH_CAP).default(8),
    /** Subtasks one task may spawn; one more new_task is answered with a tool error. Same on every worker. */
    MAX_CHILDREN_PER_TASK: int(1).max(10_000).default(100),
    METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
    RECONCILE_INTERVAL_MS: int(100).default(5000),
    /** BullMQ job lock; a worker whose event loop blocks longer loses the job. */
    WORKER_LOCK_DURATION_MS: int(500).default(30_000),
    /** Must be the same on every worker. */
    WORKER_STALLED_INTERVAL_MS: int(500).default(30_000),
    WORKER_MAX_STALLED_COUNT: int(0).default(10),
    /** Request-gate lease, renewed every third of it while a model request runs. */
    GATE_LEASE_MS: int(200).default(15_000),
    /** Graceful shutdown: how long in-flight jobs may take before the worker closes anyway. */
    SHUTDOWN_TIMEOUT_MS: int(0).default(30_000),
    /** Finished trees, then idle sessions, expire this long after they end; 0 keeps them forever. Same on API and workers. */
    RETENTION_MS: int(0).default(7 * 24 * 3600_000),
    /** Events kept per session stream (approximate). */
    EVENTS_MAX_LEN: int(100).default(10_000),
    /** Events older than this leave the stream (approximate); 0: by count only. */
    EVENTS_MAX_AGE_MS: int(0).default(7 * 24 * 3600_000),
    /** Simulated latency of the demo model, so the dashboard shows it working. */
    DEMO_MODEL_LATENCY_MS: int(0).default(300),
    /** Fraction of Redis maxmemory at and above which this worker holds new roots (running trees go on). */
    REDIS_MEMORY_HIGH: z.coerce.number().gt(0).max(1).default(0.9),
    /** How long a held root waits before the worker looks at it again. */
    ROOT_HOLD_RETRY_MS: int(50).default(5000),
    /** A task waiting for a user's answer or approval longer than this fails (INPUT_TIMEOUT); unset: it waits forever. */
    AWAITING_INPUT_TIMEOUT_MS: int(1).optional(),
    /** Sessions' workspaces live in `<WORKSPACE_ROOT>/<tenant>/<session>`; resolved to an absolute path at start. Shared by all workers (a shared volume). */
    WORKSPACE_ROOT: z
      .string()
      .default('./data/workspaces')
      .transform((p) => resolve(p)),
    /** Highest timeout_ms an execute_command call may ask for. */
    EXECUTE_COMMAND_MAX_TIMEOUT_MS: int(1000).default(600_000),
    /** PATH of the commands execute_command runs (their environment holds nothing else of the worker's). */
    EXECUTE_COMMAND_PATH: z.string().default('/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'),
    /** A path or package name imported at start; it exports tools (`export default [...]` or `export const tools`). */
    TOOLS_MODULE: z.string().min(1).optional(),
    /** KiloCode's mcp_settings.json: MCP servers whose tools (group `mcp`) are named `mcp__<server>__<tool>`. */
    MCP_SERVERS_FILE: z.string().min(1).optional(),
    /** Model prices (JSON or YAML: model -> USD per million input/output/cached tokens); unset: every cost null. */
    PRICES_FILE: z.string().min(1).optional(),
    /** Budgets of each session (all its trees), checked before every turn: tokens (input + output), USD, turns. */
    SESSION_BUDGET_MAX_TOKENS: int(1).optional(),
    SESSION_BUDGET_MAX_COST_USD: z.coerce.number().positive().optional(),
    SESSION_BUDGET_MAX_TURNS: int(1).optional(),
    /** Budgets of each tenant per UTC day, checked before every turn. */
    TENANT_BUDGET_MAX_TOKENS: int(1).optional(),
    TENANT_BUDGET_MAX_COST_USD: z.coerce.number().positive().optional(),
    TENANT_BUDGET_MAX_TURNS: int(1).optional(),
    /** How long a tenant's day of usage is kept (GET /v1/usage, tenant budgets). */
    TENANT_USAGE_TTL_DAYS: int(1).default(400),
    /** Text-only replies nudged ("use a tool") in a row before the task fails with NO_TOOL_USE. */
    MAX_NO_TOOL_NUDGES: int(0).default(3),
    /** Context windows per model (JSON or YAML: `model -> {contextWindow, condenseAt?}`, see agent/condense/context-windows). */
    CONTEXT_WINDOWS_FILE: z.string().min(1).optional(),
    /** Context window (tokens) of a model CONTEXT_WINDOWS_FILE does not list. */
    LLM_CONTEXT_WINDOW: int(1000).default(128_000),
    /** Share of the context window past which a conversation is condensed before its next turn (estimated tokens). */
    CONDENSE_AT: z.coerce.number().gt(0, 'a share of the context window above 0').max(1, 'a share of the context window, at most 1').default(0.8),
    /** Messages kept verbatim after a condense's summary, at least (moved back to the start of a turn). */
    CONDENSE_KEEP_MESSAGES: int(0).default(3),
    /**
     * Streaming: a streamed response's deltas arriving within this window go out as one
     * `message.delta` event on the session's stream (agent/delta-publisher).
     */
    DELTA_FLUSH_MS: int(1).default(50),
    /**
     * `message.delta` events of one turn, at most: past half of it the window is 4x longer and
     * the last event waits for the turn's end, so a long answer comes in bigger pieces, none lost.
     */
    DELTA_MAX_EVENTS_PER_TURN: int(1).default(1000),
  })
  .superRefine((env, ctx) => {
    // Zod runs this even when a field failed (its value is then the raw input): check parsed values only.
    if (!Array.isArray(env.WORKER_QUEUE_SHARDS) || typeof env.QUEUE_SHARDS !== 'number') return;
    const outside = env.WORKER_QUEUE_SHARDS.filter((s) => s >= env.QUEUE_SHARDS);
    if (outside.length > 0) {
      ctx.addIssue({
        code: 'custom',
        path: ['WORKER_QUEUE_SHARDS'],
        message: `shard(s) ${outside.join(', ')} do not exist: QUEUE_SHARDS is ${env.QUEUE_SHARDS} (shards 0..${env.QUEUE_SHARDS - 1})`,
      });
    }
  });
export type Env = z.output<typeof EnvSchema>;

/** Variables whose values an error message must not repeat. */
const SECRET_VARIABLES = new Set(['REDIS_URL', 'LLM_BASE_URL', 'LLM_API_KEY', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'ANTHROPIC_BASE_URL', 'ANTHROPIC_API_KEY']);

export class EnvError extends Error {
  /** The variables at fault, in the order zod reported them. */
  readonly variables: string[];

  constructor(error: z.ZodError) {
    super(`invalid worker configuration:\n${z.prettifyError(error)}`);
    this.name = 'EnvError';
    this.variables = error.issues.map((issue) => issue.path.join('.') || '(environment)');
  }
}

/** Parses an environment; throws EnvError listing every bad variable. */
export function parseEnv(source: Record<string, string | undefined>): Env {
  // An empty variable (`FOO=` in a compose file) means "not set".
  const present = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v.trim() !== ''));
  const parsed = EnvSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  // The value given helps fix a typo, but values that may carry a secret (a key, a URL with a password) are never echoed.
  const withValues = parsed.error.issues.map((issue) => {
    const name = issue.path.join('.');
    const value = source[name];
    return value === undefined || SECRET_VARIABLES.has(name) ? issue : { ...issue, message: `${issue.message} (got ${JSON.stringify(value)})` };
  });
  throw new EnvError(new z.ZodError(withValues));
}

/** Reads `process.env` (the only place that does). */
export function loadEnv(): Env {
  return parseEnv(process.env);
}
