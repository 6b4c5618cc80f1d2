import { Queue } from 'bullmq';
import { Cluster, Redis, type ClusterNode, type ClusterOptions, type RedisOptions } from 'ioredis';
import pino, { type Logger } from 'pino';
import { EngineOptionsSchema, type EngineOptions, type ResolvedEngineOptions } from './config';
import { Keys, TASK_QUEUE } from './keys';
import { installScripts, type ScriptCaller } from './lua-scripts';

/** A Redis Cluster: seed nodes (every key of a session shares one hash slot). */
export interface ClusterConnection {
  clusterNodes: { host: string; port: number }[];
  clusterOptions?: ClusterOptions;
}
export type Connection = string | RedisOptions | ClusterConnection;

/** A standalone connection or a cluster client; Baton uses only what both offer. */
export type RedisClient = Redis | Cluster;

/**
 * Opens an ioredis connection suited to BullMQ (blocking commands, no request
 * limit: commands wait while Redis is away). With `failFast`, one for serving
 * requests instead (see failFastOptions).
 */
export function openRedis(connection: Connection, failFast?: FailFastOptions): RedisClient {
  const extra = failFast ? failFastOptions(failFast) : WAIT_THROUGH_OUTAGES;
  if (typeof connection === 'string') connection = connectionFromUrl(connection);
  if (typeof connection === 'string') return failFast ? new FailFastRedis(connection, extra) : new Redis(connection, extra);
  if ('clusterNodes' in connection) {
    const options = { ...connection.clusterOptions, redisOptions: { ...connection.clusterOptions?.redisOptions, ...extra } };
    return failFast ? new FailFastCluster(connection.clusterNodes, { ...options, enableOfflineQueue: false }) : new Cluster(connection.clusterNodes, options);
  }
  return failFast ? new FailFastRedis({ ...connection, ...extra }) : new Redis({ ...connection, ...extra });
}

/** Workers: a command waits while Redis is away and runs once it is back (their writes are fenced). */
const WAIT_THROUGH_OUTAGES = { maxRetriesPerRequest: null, enableReadyCheck: true } as const;

/** What a duplicate of a fail-fast connection puts back: the waiting profile and ioredis's defaults. */
const UNDO_FAIL_FAST = { ...WAIT_THROUGH_OUTAGES, enableOfflineQueue: true, autoResendUnfulfilledCommands: true, commandTimeout: undefined } as const;

export interface FailFastOptions {
  /** A command unanswered after this long is rejected. */
  commandTimeoutMs: number;
}

/**
 * Request serving (the API): a command fails at once while Redis is away and
 * after `commandTimeoutMs` when Redis does not answer, so a request never
 * hangs. Nothing is queued for later and nothing is sent again after a
 * reconnect: a request answered "unavailable" must not take effect later.
 */
function failFastOptions({ commandTimeoutMs }: FailFastOptions) {
  return {
    maxRetriesPerRequest: 0,
    enableReadyCheck: true,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    commandTimeout: commandTimeoutMs,
  } as const;
}

/**
 * Duplicates of a fail-fast connection serve blocking reads and
 * subscriptions (event streams): those wait for their data and through
 * outages, as every other connection does, so they drop the fail-fast options.
 */
class FailFastRedis extends Redis {
  override duplicate(override?: Partial<RedisOptions>): Redis {
    return super.duplicate({ ...UNDO_FAIL_FAST, ...override });
  }
}

class FailFastCluster extends Cluster {
  override duplicate(overrideStartupNodes: ClusterNode[] = [], overrideOptions: ClusterOptions = {}): Cluster {
    const redisOptions = { ...this.options.redisOptions, ...UNDO_FAIL_FAST, ...overrideOptions.redisOptions };
    return super.duplicate(overrideStartupNodes, { enableOfflineQueue: true, ...overrideOptions, redisOptions });
  }
}

/**
 * Parses `REDIS_URL`-style configuration: `redis://host:port` for one server,
 * or `redis+cluster://host:port,host:port` for a cluster's seed nodes.
 */
export function connectionFromUrl(url: string): Connection {
  if (!url.startsWith('redis+cluster://')) return url;
  const nodes = url
    .slice('redis+cluster://'.length)
    .split(',')
    .filter(Boolean)
    .map((hp) => {
      const [host, port] = hp.split(':');
      return { host: host || '127.0.0.1', port: Number(port || 6379) };
    });
  return { clusterNodes: nodes };
}

/**
 * Racepoints: hooks that production code awaits at known risky points, so a
 * test can widen a race window or simulate a crash there deterministically.
 */
export interface Racepoints {
  /** Between a lane script's dispatch and the BullMQ add of the dispatched roots. */
  beforeJobAdd?(sessionId: string, taskIds: string[]): Promise<void>;
  /** A task went `awaiting_input`; its runner has not yet moved the job to delayed. */
  beforeInputParkMove?(taskId: string): Promise<void>;
}

export interface JobData {
  taskId: string;
  sessionId: string;
}

/**
 * What the engine's parts share: one command connection with the scripts
 * installed, the key builder, the task queue and the resolved options.
 */
export class EngineContext {
  readonly options: ResolvedEngineOptions;
  readonly keys: Keys;
  readonly redis: RedisClient;
  readonly queue: Queue<JobData>;
  readonly call: ScriptCaller;
  readonly logger: Logger;
  readonly racepoints: Racepoints = {};

  constructor(
    readonly connection: Connection,
    options: EngineOptions = {},
    logger?: Logger,
  ) {
    this.options = EngineOptionsSchema.parse(options);
    this.keys = new Keys(this.options.prefix);
    this.logger = logger ?? pino({ name: 'baton', level: 'info' });
    this.redis = openRedis(connection, this.options.commandTimeoutMs === undefined ? undefined : { commandTimeoutMs: this.options.commandTimeoutMs });
    this.call = installScripts(this.redis);
    this.queue = new Queue<JobData>(TASK_QUEUE, {
      connection: this.redis,
      prefix: this.keys.queuePrefix,
      defaultJobOptions: this.jobOptions(),
    });
  }

  /** The events-trim argument of every script that emits: `<maxLen>:<maxAgeMs>` (see lua/includes/common emit). */
  get eventsTrim(): string {
    return `${this.options.eventsMaxLen}:${this.options.eventsMaxAgeMs}`;
  }

  jobOptions() {
    // BullMQ removes finished jobs older than the retention when later jobs finish; the
    // reconciler's sweep removes the rest (a quiet queue finishes no later job).
    const ageSeconds = Math.ceil(this.options.retentionMs / 1000);
    return {
      attempts: this.options.jobAttempts,
      backoff: { type: 'exponential', delay: 500 },
      removeOnComplete: ageSeconds > 0 ? { age: ageSeconds, count: this.options.keepCompletedJobs } : { count: this.options.keepCompletedJobs },
      removeOnFail: { age: ageSeconds > 0 ? ageSeconds : 7 * 24 * 3600 },
    };
  }

  /** Makes root tasks BullMQ jobs; jobId = taskId, so a repeated dispatch is a no-op. */
  async addRootJobs(sessionId: string, taskIds: string[]): Promise<void> {
    if (taskIds.length === 0) return;
    await this.racepoints.beforeJobAdd?.(sessionId, taskIds);
    await this.queue.addBulk(
      taskIds.map((taskId) => ({ name: 'task', data: { taskId, sessionId }, opts: { jobId: taskId } })),
    );
  }

  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}
