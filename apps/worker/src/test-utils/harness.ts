/** Helpers for the worker's tests (real Redis, fake provider over real HTTP). */
import { conversationProblems, Engine, type TaskTree } from '@baton/core';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupPrefix, REDIS_URL, startFakeProvider, type FakeProvider } from '@baton/testkit';
import { parseEnv, type Env } from '../env';
import { WorkerApp, type WorkerAppOptions } from '../worker-app';

export function testEnv(prefix: string, overrides: Record<string, string | undefined> = {}): Env {
  return parseEnv({
    REDIS_URL,
    BATON_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    WORKER_CONCURRENCY: '4',
    LLM_API_KEY: 'sk-test',
    LLM_MODEL: 'fake-model',
    LLM_TIMEOUT_MS: '2000',
    LLM_BACKOFF_BASE_MS: '10',
    LLM_BACKOFF_MAX_MS: '50',
    RECONCILE_INTERVAL_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '2000',
    DEMO_MODEL_LATENCY_MS: '0',
    // Each test's sessions get their own workspace folders (tenant/session under this root).
    WORKSPACE_ROOT: join(tmpdir(), `baton-ws-${prefix}`),
    ...overrides,
  });
}

export function startTestWorker(options: Omit<WorkerAppOptions, 'env'> & { prefix: string; env?: Record<string, string | undefined> }): Promise<WorkerApp> {
  const { prefix, env, ...rest } = options;
  return WorkerApp.start({ env: testEnv(prefix, env), ...rest });
}

/** A worker on the testkit's fake provider, and an engine to submit through. */
export interface FakeWorker {
  fake: FakeProvider;
  app: WorkerApp;
  engine: Engine;
  /** Stops the worker, the engine and the fake, and removes the prefix's keys. */
  close(): Promise<void>;
}

/** Starts the fake provider, a worker on it (LLM_BASE_URL set) and an engine; a test sets the fake's policy after. */
export async function startFakeWorker(options: Parameters<typeof startTestWorker>[0]): Promise<FakeWorker> {
  const fake = await startFakeProvider({ apiKey: 'sk-test' });
  const app = await startTestWorker({ ...options, env: { LLM_BASE_URL: fake.url, ...options.env } }).catch(async (err: unknown) => {
    await fake.close();
    throw err;
  });
  const engine = new Engine(REDIS_URL, { prefix: options.prefix });
  return {
    fake,
    app,
    engine,
    async close() {
      await app.close(1000);
      await engine.close();
      await fake.close();
      await cleanupPrefix(options.prefix);
    },
  };
}

/**
 * Resolves when the job of `taskId` ends in this worker (completed, or failed
 * for good). Register before submitting.
 */
export function jobEnded(app: WorkerApp, taskId: string): Promise<void> {
  const { worker } = app.taskWorker;
  return new Promise((resolve) => {
    const onCompleted = (job: { id?: string }) => {
      if (job.id !== taskId) return;
      worker.off('completed', onCompleted);
      resolve();
    };
    worker.on('completed', onCompleted);
  });
}

/** Every task of the tree with its conversation problems (empty when well formed). */
export async function treeProblems(engine: Engine, rootId: string): Promise<Record<string, string[]>> {
  const tree = await engine.getTree(rootId);
  if (!tree) throw new Error(`no tree for ${rootId}`);
  const out: Record<string, string[]> = {};
  const walk = async (node: TaskTree) => {
    out[node.id] = conversationProblems((await engine.getMessages(node.id)) ?? []);
    for (const child of node.children) await walk(child);
  };
  await walk(tree);
  return out;
}

export function flatten(tree: TaskTree): TaskTree[] {
  return [tree, ...tree.children.flatMap(flatten)];
}
