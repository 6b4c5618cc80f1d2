/**
 * Direct access to the task queue of a Baton prefix, for scenarios that play
 * BullMQ's own failure modes (a job delivered again): add a job for an
 * existing task and wait until a worker has processed it.
 */
import { Keys, openRedis, TASK_QUEUE, type JobData, type RedisClient } from '@baton/core';
import { Queue, QueueEvents } from 'bullmq';

export class QueueProbe {
  private constructor(
    readonly queue: Queue<JobData>,
    private readonly events: QueueEvents,
    private readonly connections: RedisClient[],
  ) {}

  static async open(redisUrl: string, prefix: string): Promise<QueueProbe> {
    const queuePrefix = new Keys(prefix).queuePrefix;
    const connections = [openRedis(redisUrl), openRedis(redisUrl)];
    const queue = new Queue<JobData>(TASK_QUEUE, { connection: connections[0]!, prefix: queuePrefix });
    const events = new QueueEvents(TASK_QUEUE, { connection: connections[1]!, prefix: queuePrefix });
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    return new QueueProbe(queue, events, connections);
  }

  /** Delivers the task's job once more (a new job id: BullMQ keeps the original's) and waits until it was processed. */
  async redeliver(taskId: string, sessionId: string, tag: string): Promise<unknown> {
    const job = await this.queue.add('task', { taskId, sessionId }, { jobId: `${tag}-${taskId}` });
    return job.waitUntilFinished(this.events, 30_000);
  }

  async close(): Promise<void> {
    await this.events.close();
    await this.queue.close();
    for (const c of this.connections) c.disconnect();
  }
}
