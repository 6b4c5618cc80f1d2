/**
 * Test fixture for the script wrappers: a Scripts instance on its own random
 * prefix (cleaned up by `close`), and a few ways to stage state through the
 * scripts themselves. Not a test file: the *-scripts.test.ts files use it.
 */
import { cleanupPrefix, REDIS_URL, testPrefix } from '@baton/testkit';
import { EngineOptionsSchema, type EngineOptions } from '../config';
import { openRedis } from '../connection';
import { Keys } from '../keys';
import type { SubmitRootArgs } from './lane-scripts';
import { Scripts } from './scripts';

export class ScriptFixture {
  readonly prefix: string;
  readonly redis = openRedis(REDIS_URL);
  readonly keys: Keys;
  readonly scripts: Scripts;
  private n = 0;

  constructor(name: string, options: EngineOptions = {}) {
    this.prefix = testPrefix(name);
    this.keys = new Keys(this.prefix);
    this.scripts = new Scripts(this.redis, this.keys, EngineOptionsSchema.parse({ ...options, prefix: this.prefix }));
  }

  /** Submission arguments for a new root of `sessionId` (override any). */
  root(sessionId: string, over: Partial<SubmitRootArgs> = {}): SubmitRootArgs {
    const taskId = over.taskId ?? `r${++this.n}`;
    return {
      sessionId,
      taskId,
      fields: { id: taskId, sessionId, parentId: '', rootId: taskId, tenant: 'default', mode: 'm', prompt: 'p' },
      payloadHash: 'h',
      tenant: 'default',
      onBusy: 'enqueue',
      deadline: 0,
      ...over,
    };
  }

  /** Submits a root and starts it (as a worker would): returns its id and runner token. */
  async running(sessionId: string): Promise<{ taskId: string; token: string }> {
    const submitted = await this.scripts.submitRoot(this.root(sessionId));
    if (submitted.kind !== 'created') throw new Error(`submit: ${submitted.kind}`);
    const started = await this.scripts.startTask(sessionId, submitted.taskId);
    if (started.kind !== 'ok') throw new Error(`start: ${started.kind}`);
    return { taskId: submitted.taskId, token: started.token };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
    await cleanupPrefix(this.prefix);
  }
}
