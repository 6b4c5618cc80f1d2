/**
 * A whole Baton deployment for black-box proofs: the real HTTP fake provider,
 * one API process and N worker processes (`node apps/{api,worker}/dist/main.js`)
 * on one key prefix of a real Redis, and a typed HTTP client. Tests, the
 * chaos run and the durability/cluster runs all drive Baton through this,
 * over HTTP only (plus SIGKILL/SIGTERM of processes).
 */
import { BatonClient } from '@baton/client';
import {
  cleanupPrefix,
  REDIS_URL,
  startApi,
  startFakeProvider,
  startWorker,
  testPrefix,
  type ApiProcess,
  type BatonProcess,
  type FakeProvider,
  type FakeProviderOptions,
} from '@baton/testkit';

export const API_KEY = 'proof-secret-0001';
/** Bearer token of the stack API's /metrics. */
export const METRICS_TOKEN = 'proof-metrics-token-0001';

export interface StackOptions {
  /** Worker processes to start (default 2). */
  workers?: number;
  /** Extra worker environment (overrides the defaults below). */
  workerEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  fake?: FakeProviderOptions;
  /** Default: a fresh `testPrefix(name)`, cleaned up by `close()`. */
  prefix?: string;
  redisUrl?: string;
  /** Keep process logs in memory (default true). */
  keepLogs?: boolean;
  /** How long each process may take to be ready (default 20 s; longer on a loaded machine). */
  readyTimeoutMs?: number;
}

export class BatonStack {
  readonly workers: BatonProcess[] = [];
  /** Every worker ever started (killed ones included), for their logs. */
  readonly allWorkers: BatonProcess[] = [];
  readonly client: BatonClient;

  private constructor(
    readonly prefix: string,
    readonly redisUrl: string,
    readonly fake: FakeProvider,
    readonly api: ApiProcess,
    private readonly options: StackOptions,
  ) {
    this.client = new BatonClient({ baseUrl: api.url, apiKey: API_KEY });
  }

  static async start(name: string, options: StackOptions = {}): Promise<BatonStack> {
    const prefix = options.prefix ?? testPrefix(name);
    const redisUrl = options.redisUrl ?? REDIS_URL;
    const fake = await startFakeProvider({ apiKey: 'sk-proof', ...options.fake });
    let api: ApiProcess | undefined;
    let stack: BatonStack | undefined;
    try {
      api = await startApi(
        prefix,
        { REDIS_URL: redisUrl, API_KEYS: `proof:${API_KEY}`, METRICS_TOKEN, RATE_LIMIT_MAX: '1000000', ...options.apiEnv },
        { keepLogs: options.keepLogs ?? true, ...(options.readyTimeoutMs ? { readyTimeoutMs: options.readyTimeoutMs } : {}) },
      );
      stack = new BatonStack(prefix, redisUrl, fake, api, options);
      await Promise.all(Array.from({ length: options.workers ?? 2 }, () => stack!.addWorker()));
      return stack;
    } catch (err) {
      // Leave nothing running: the API, the workers that did start, the fake.
      if (stack) await stack.close();
      else {
        await api?.kill('SIGKILL');
        await fake.close();
      }
      throw err;
    }
  }

  /** The worker environment: short locks so that a killed worker's jobs are re-taken within about 2 s. */
  workerEnv(): Record<string, string> {
    return {
      REDIS_URL: this.redisUrl,
      LLM_BASE_URL: this.fake.url,
      LLM_API_KEY: 'sk-proof',
      LLM_MODEL: 'fake-model',
      WORKER_CONCURRENCY: '8',
      LLM_TIMEOUT_MS: '10000',
      LLM_BACKOFF_BASE_MS: '10',
      LLM_BACKOFF_MAX_MS: '200',
      LLM_MAX_ATTEMPTS: '20',
      WORKER_LOCK_DURATION_MS: '2000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      RECONCILE_INTERVAL_MS: '500',
      GATE_LEASE_MS: '3000',
      SHUTDOWN_TIMEOUT_MS: '5000',
      LOG_LEVEL: 'info',
      ...this.options.workerEnv,
    };
  }

  async addWorker(): Promise<BatonProcess> {
    const worker = await startWorker(this.prefix, this.workerEnv(), {
      keepLogs: this.options.keepLogs ?? true,
      ...(this.options.readyTimeoutMs ? { readyTimeoutMs: this.options.readyTimeoutMs } : {}),
    });
    this.workers.push(worker);
    this.allWorkers.push(worker);
    return worker;
  }

  /** Kills (SIGKILL) or stops (SIGTERM) one worker and forgets it. */
  async removeWorker(worker: BatonProcess, signal: NodeJS.Signals): Promise<void> {
    this.workers.splice(this.workers.indexOf(worker), 1);
    if (signal === 'SIGTERM') await worker.stop();
    else await worker.kill(signal);
  }

  /** The pid in a request's User-Agent (the worker's provider client sends it). */
  static pidOfUserAgent(ua: unknown): number | null {
    const m = /pid (\d+)/.exec(String(ua));
    return m ? Number(m[1]) : null;
  }

  async close(): Promise<void> {
    await Promise.all([...this.workers.splice(0).map((w) => w.kill('SIGKILL')), this.api.kill('SIGKILL')]);
    await this.fake.close();
    if (!this.options.prefix) await cleanupPrefix(this.prefix, this.redisUrl);
  }
}
