/**
 * Test harness for the engine: several engines (one per simulated process)
 * on one random prefix, task workers on them, and event-driven waits.
 */
import { cleanupPrefix, REDIS_URL, testPrefix } from '@baton/testkit';
import pino from 'pino';
import type { EngineOptions } from '../config';
import type { BatonEvent } from '../model/event';
import { Engine } from '../engine';
import { openRedis } from '../connection';
import { isTerminal, type Task } from '../model/task';
import { TaskWorker, type TaskHandler, type TaskWorkerOptions } from '../runtime/task-worker';

export class Harness {
  readonly prefix: string;
  readonly engines: Engine[] = [];
  readonly workers: TaskWorker[] = [];
  private readonly blocking = openRedis(REDIS_URL);
  readonly logger = pino({ level: process.env.BATON_TEST_LOG ?? 'silent' });

  constructor(
    name: string,
    private readonly options: EngineOptions = {},
  ) {
    this.prefix = testPrefix(name);
  }

  engine(): Engine {
    const e = new Engine(REDIS_URL, { ...this.options, prefix: this.prefix }, this.logger);
    this.engines.push(e);
    return e;
  }

  /** A worker on its own engine (its own connections), like a separate process. */
  async worker(handler: TaskHandler, options: TaskWorkerOptions = {}): Promise<TaskWorker> {
    const w = new TaskWorker(this.engine(), handler, { concurrency: 8, ...options });
    this.workers.push(w);
    await w.waitUntilReady();
    return w;
  }

  /** Waits (on the session's event stream, no polling) until the task is terminal. */
  async settled(engine: Engine, taskId: string, timeoutMs = 20_000): Promise<Task> {
    const deadline = Date.now() + timeoutMs;
    const sessionId = (await engine.tasks.sessionOf(taskId))!;
    let after = '0';
    for (;;) {
      const task = await engine.tasks.get(sessionId, taskId);
      if (task && isTerminal(task.status)) return task;
      if (Date.now() > deadline) throw new Error(`task ${taskId} not terminal within ${timeoutMs} ms (status ${task?.status})`);
      const events = await engine.events.waitFor(this.blocking, sessionId, after, 1000);
      if (events.length) after = events[events.length - 1]!.id;
    }
  }

  /** Waits (on the event stream) for the first event of a session matching `match`. */
  async event(engine: Engine, sessionId: string, match: (e: BatonEvent) => boolean, timeoutMs = 20_000): Promise<BatonEvent> {
    const deadline = Date.now() + timeoutMs;
    let after = '0';
    while (Date.now() < deadline) {
      const events = await engine.events.waitFor(this.blocking, sessionId, after, 1000);
      const hit = events.find(match);
      if (hit) return hit;
      if (events.length) after = events[events.length - 1]!.id;
    }
    throw new Error(`no matching event in session ${sessionId} within ${timeoutMs} ms`);
  }

  async close(): Promise<void> {
    try {
      await Promise.all(this.workers.map((w) => w.close(true)));
      // A force close leaves processors finishing their last writes: let them end (bounded:
      // a test may leave a task held on purpose), so the clean-up below is the last write.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([Promise.all(this.workers.map((w) => w.idle())), new Promise((resolve) => (timer = setTimeout(resolve, 3000)))]);
      clearTimeout(timer);
      await Promise.all(this.engines.map((e) => e.close()));
    } finally {
      this.blocking.disconnect();
      await cleanupPrefix(this.prefix);
    }
  }
}
