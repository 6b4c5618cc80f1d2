import { MAX_QUEUE_SHARDS, type EngineOptions } from '@baton/core';
import { resolve } from 'node:path';
import { z } from 'zod';

/**
 * The API's configuration: parsed once from the environment at start (the
 * only place that reads `process.env`), failing fast with a readable message.
 * Every variable is documented in `apps/api/.env.example`.
 */

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const emptyAsUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const int = (min: number, max: number, fallback: number) => z.preprocess(emptyAsUndefined, z.coerce.number().int().min(min).max(max).default(fallback));

export interface ApiKey {
  tenant: string;
  secret: string;
}

/** `tenant:secret,tenant:secret`; the secret may itself contain `:`. */
const ApiKeysSchema = z.preprocess(
  emptyAsUndefined,
  z
    .string()
    .optional()
    .transform((raw, ctx): ApiKey[] => {
      if (raw === undefined) return [];
      const keys: ApiKey[] = [];
      for (const [i, part] of raw.split(',').entries()) {
        const entry = part.trim();
        const at = entry.indexOf(':');
        const tenant = at > 0 ? entry.slice(0, at) : '';
        const secret = at > 0 ? entry.slice(at + 1) : '';
        if (!/^[A-Za-z0-9._-]{1,128}$/.test(tenant) || secret.length < 8) {
          ctx.addIssue({
            code: 'custom',
            message: `entry ${i + 1} must be tenant:secret (tenant 1-128 of A-Z a-z 0-9 . _ -, secret at least 8 characters)`,
          });
          return z.NEVER;
        }
        keys.push({ tenant, secret });
      }
      if (new Set(keys.map((k) => k.secret)).size !== keys.length) {
        ctx.addIssue({ code: 'custom', message: 'secrets must be unique (a secret identifies its tenant)' });
        return z.NEVER;
      }
      return keys;
    }),
);

export const EnvSchema = z.object({
  /** `redis[s]://...`, or `redis+cluster://host:port,host:port` (Redis Cluster seed nodes, see @baton/core connectionFromUrl). */
  REDIS_URL: z.preprocess(
    emptyAsUndefined,
    z
      .union([z.url({ protocol: /^rediss?$/ }), z.string().regex(/^redis\+cluster:\/\/[A-Za-z0-9.-]+:\d+(,[A-Za-z0-9.-]+:\d+)*$/)])
      .default('redis://127.0.0.1:6379'),
  ),
  BATON_PREFIX: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^[A-Za-z0-9._-]+$/)
      .default('baton'),
  ),
  /** Unset: 0.0.0.0 with API keys, 127.0.0.1 with API_AUTH=none. */
  HOST: z.preprocess(emptyAsUndefined, z.string().min(1).optional()),
  PORT: int(0, 65535, 3000),
  API_KEYS: ApiKeysSchema,
  /** `keys` (default): API_KEYS is required. `none`: the API runs open, as the single tenant `default`. */
  API_AUTH: z.preprocess(emptyAsUndefined, z.enum(['keys', 'none']).default('keys')),
  DASHBOARD_USER: z.preprocess(emptyAsUndefined, z.string().min(1).default('admin')),
  DASHBOARD_PASSWORD: z.preprocess(emptyAsUndefined, z.string().min(8).optional()),
  LOG_LEVEL: z.preprocess(emptyAsUndefined, z.enum(LOG_LEVELS).default('info')),
  RATE_LIMIT_MAX: int(1, 1_000_000, 600),
  RATE_LIMIT_WINDOW_MS: int(100, 24 * 3600_000, 60_000),
  /** Requests per window per client address without a valid key (failed authentications count). */
  RATE_LIMIT_ANON_MAX: int(1, 1_000_000, 120),
  /** Bearer token for /metrics on the API port; unset: /metrics is 404 there. */
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16).optional()),
  /** A separate listener (on HOST) serving only /metrics; unset: none. */
  METRICS_PORT: z.preprocess(emptyAsUndefined, z.coerce.number().int().min(0).max(65535).optional()),
  SSE_KEEPALIVE_MS: int(100, 300_000, 15_000),
  SSE_MAX_STREAMS: int(1, 1_000_000, 10_000),
  SSE_MAX_STREAMS_PER_TENANT: int(1, 1_000_000, 1000),
  SSE_REDIS_READERS: int(1, 64, 1),
  SSE_CLUSTER_POLL_MS: int(10, 60_000, 200),
  REQUEST_TIMEOUT_MS: int(0, 600_000, 30_000),
  SHUTDOWN_TIMEOUT_MS: int(100, 600_000, 10_000),
  TRUST_PROXY: z.preprocess(
    emptyAsUndefined,
    z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true'),
  ),
  MAX_QUEUED_ROOTS_PER_SESSION: int(1, 10_000, 100),
  /** Task queues, each with its own hash tag (spread over a Redis Cluster's masters). Same on API and workers. */
  QUEUE_SHARDS: int(1, MAX_QUEUE_SHARDS, 1),
  /** Finished trees, then idle sessions, expire this long after they end; 0 keeps them forever. */
  RETENTION_MS: int(0, 10 * 365 * 24 * 3600_000, 7 * 24 * 3600_000),
  EVENTS_MAX_LEN: int(100, 10_000_000, 10_000),
  EVENTS_MAX_AGE_MS: int(0, 10 * 365 * 24 * 3600_000, 7 * 24 * 3600_000),
  REDIS_COMMAND_TIMEOUT_MS: int(100, 60_000, 3000),
  REDIS_MEMORY_HIGH: z.preprocess(emptyAsUndefined, z.coerce.number().gt(0).max(1).default(0.9)),
  /** Sessions' workspaces, `<root>/<tenant>/<session>`: the same folder (shared volume) as every worker's. */
  WORKSPACE_ROOT: z.preprocess(emptyAsUndefined, z.string().min(1).default('./data/workspaces')),
  /** Body of one `POST /v1/sessions/{id}/files` (tar.gz or JSON), in bytes. */
  FILES_MAX_BYTES: int(1024, 4 * 1024 ** 3, 50 * 1024 ** 2),
  /** Bytes one upload may write once extracted (a tar bomb stops here, not at a full disk). */
  FILES_MAX_EXTRACTED_BYTES: int(1024, 64 * 1024 ** 3, 512 * 1024 ** 2),
  /** Entries (files and folders) of one upload. */
  FILES_MAX_ENTRIES: int(1, 1_000_000, 10_000),
  /** Entries one listing returns (then `truncated: true`). */
  FILES_LIST_MAX: int(1, 1_000_000, 10_000),
});

export type Env = z.output<typeof EnvSchema>;

export interface ApiConfig {
  redisUrl: string;
  prefix: string;
  host: string;
  port: number;
  /** Empty only with API_AUTH=none: the API is open, as the single tenant `default`. */
  apiKeys: ApiKey[];
  dashboard: { user: string; password: string } | null;
  logLevel: Env['LOG_LEVEL'];
  /** `max` per tenant, `anonMax` per client address for requests without a valid key. */
  rateLimit: { max: number; anonMax: number; windowMs: number };
  metrics: { token: string | null; port: number | null };
  sseKeepAliveMs: number;
  /** Event streams: caps, and the Redis connections they share (see http/event-hub.ts). */
  sse: { maxStreams: number; maxStreamsPerTenant: number; redisReaders: number; clusterPollMs: number };
  requestTimeoutMs: number;
  shutdownTimeoutMs: number;
  trustProxy: boolean;
  /** Roots waiting in one session's lane; a submission past it is 429 SESSION_QUEUE_FULL. */
  maxQueuedRootsPerSession: number;
  /** Data lifecycle options of the engine (retention, event stream bounds); unset: the engine's defaults. */
  engine?: Pick<EngineOptions, 'retentionMs' | 'eventsMaxLen' | 'eventsMaxAgeMs' | 'queueShards'>;
  /** A Redis command unanswered after this long fails the request with 503 (the API never waits for Redis). */
  redisCommandTimeoutMs: number;
  /** Fraction of maxmemory at and above which the API is not ready and refuses submissions. */
  redisMemoryHigh: number;
  /** Workspaces (absolute root) and the bounds of the files routes (routes/files.ts). */
  files: FilesConfig;
}

export interface FilesConfig {
  workspaceRoot: string;
  maxBytes: number;
  maxExtractedBytes: number;
  maxEntries: number;
  listMax: number;
}

export class EnvError extends Error {
  constructor(
    message: string,
    /** The variables at fault. */
    readonly variables: string[],
  ) {
    super(message);
    this.name = 'EnvError';
  }

  /** Every variable the schema refused, each with its rule. */
  static invalid(error: z.ZodError): EnvError {
    return new EnvError(
      `invalid environment:\n${z.prettifyError(error)}`,
      error.issues.map((issue) => issue.path.join('.') || 'env'),
    );
  }

  /** A rule across variables, said in one line. */
  static rule(message: string, variables: string[]): EnvError {
    return new EnvError(`invalid environment: ${message}`, variables);
  }
}

/** How to fix a missing API_KEYS, in one line. */
export const MISSING_API_KEYS =
  'API_KEYS is required: set API_KEYS=tenant:secret[,tenant:secret] (a secret: `openssl rand -hex 32`), or API_AUTH=none to run open on 127.0.0.1';

/**
 * Parses an environment (a plain object: tests pass their own). Throws
 * EnvError. Messages name the variable and the rule, never the value (values
 * are often secrets: keys, passwords, URLs with credentials).
 */
export function parseEnv(source: Record<string, string | undefined>): ApiConfig {
  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) throw EnvError.invalid(parsed.error);
  const env = parsed.data;
  const open = env.API_AUTH === 'none';
  if (!open && env.API_KEYS.length === 0) throw EnvError.rule(MISSING_API_KEYS, ['API_KEYS']);
  if (open && env.API_KEYS.length > 0) throw EnvError.rule('API_AUTH: "none" contradicts API_KEYS; unset one of them', ['API_AUTH', 'API_KEYS']);
  return {
    redisUrl: env.REDIS_URL,
    prefix: env.BATON_PREFIX,
    // An open API listens on loopback only, unless HOST says otherwise.
    host: env.HOST ?? (open ? '127.0.0.1' : '0.0.0.0'),
    port: env.PORT,
    apiKeys: env.API_KEYS,
    dashboard: env.DASHBOARD_PASSWORD ? { user: env.DASHBOARD_USER, password: env.DASHBOARD_PASSWORD } : null,
    logLevel: env.LOG_LEVEL,
    rateLimit: { max: env.RATE_LIMIT_MAX, anonMax: env.RATE_LIMIT_ANON_MAX, windowMs: env.RATE_LIMIT_WINDOW_MS },
    metrics: { token: env.METRICS_TOKEN ?? null, port: env.METRICS_PORT ?? null },
    sseKeepAliveMs: env.SSE_KEEPALIVE_MS,
    sse: {
      maxStreams: env.SSE_MAX_STREAMS,
      maxStreamsPerTenant: env.SSE_MAX_STREAMS_PER_TENANT,
      redisReaders: env.SSE_REDIS_READERS,
      clusterPollMs: env.SSE_CLUSTER_POLL_MS,
    },
    requestTimeoutMs: env.REQUEST_TIMEOUT_MS,
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    trustProxy: env.TRUST_PROXY,
    maxQueuedRootsPerSession: env.MAX_QUEUED_ROOTS_PER_SESSION,
    engine: { retentionMs: env.RETENTION_MS, eventsMaxLen: env.EVENTS_MAX_LEN, eventsMaxAgeMs: env.EVENTS_MAX_AGE_MS, queueShards: env.QUEUE_SHARDS },
    redisCommandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    redisMemoryHigh: env.REDIS_MEMORY_HIGH,
    files: {
      workspaceRoot: resolve(env.WORKSPACE_ROOT),
      maxBytes: env.FILES_MAX_BYTES,
      maxExtractedBytes: env.FILES_MAX_EXTRACTED_BYTES,
      maxEntries: env.FILES_MAX_ENTRIES,
      listMax: env.FILES_LIST_MAX,
    },
  };
}

/** Reads `process.env` once; prints the problems and exits 1 when it is invalid. */
export function loadEnv(): ApiConfig {
  try {
    return parseEnv(process.env);
  } catch (err) {
    if (err instanceof EnvError) {
      process.stderr.write(`baton api: ${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
