/**
 * Redis sizing figures: `node packages/proof/dist/sizing/run.js [--roots 200] [--text-kib 8]`.
 * On its own redis-server (no persistence), the API and one worker with the
 * fake provider run `roots` single-turn roots (mode `code`, one session
 * each) twice: with a short prompt, then with a prompt of `text-kib` KiB
 * (the fake model's answer echoes it, so the answer is as long). Prints
 * used_memory per session+task, the extra bytes per KiB of message text,
 * and MEMORY USAGE by key kind for one sample session.
 */
import { Keys, TASK_QUEUE } from '@baton/core';
import { Redis } from 'ioredis';
import { BatonStack } from '../support/baton-stack';
import { numberOption } from '../support/cli-options';
import { RedisServer } from '@baton/testkit';
import { waitForStatus } from '../support/waits';

async function usedMemory(redis: Redis): Promise<number> {
  return Number(/^used_memory:(\d+)/m.exec(await redis.info('memory'))![1]);
}

/** The kind of a key: its last segment after the session's hash tag or the prefix (`task`, `conversation`, `events`, ...). */
function kindOf(key: string): string {
  const rest = key.replace(/^[^:]*:\{s:[^}]*\}:/, '');
  if (rest === key)
    return key.startsWith('{')
      ? `bullmq:${key
          .split(':')
          .slice(2)
          .join(':')
          .replace(/[0-9a-f_t]{20,}/, '<id>')}`
      : key;
  const parts = rest.split(':');
  return parts[0] === 'task' ? ['task', ...parts.slice(2)].join(':') || 'task' : parts[0]!;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const roots = numberOption(argv, 'roots', 'SIZING_ROOTS', 200);
  const textKib = numberOption(argv, 'text-kib', 'SIZING_TEXT_KIB', 8);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const server = await RedisServer.start('sizing');
  const redis = new Redis(server.url);
  const stack = await BatonStack.start('sizing', { redisUrl: server.url, prefix: 'sizing', workers: 1 });
  try {
    const ids: string[] = [];
    const round = async (name: string, prompt: (i: number) => string): Promise<number> => {
      const before = await usedMemory(redis);
      ids.length = 0;
      for (let i = 0; i < roots; i++) ids.push((await stack.client.submit(`${name}-${i}`, { prompt: prompt(i), mode: 'code' })).task.id);
      await waitForStatus(stack.client, ids, undefined, 300_000);
      return ((await usedMemory(redis)) - before) / roots;
    };
    // A first round warms up everything that is paid once (scripts, BullMQ keys, indexes).
    await round('warm', (i) => `warm ${i}`);
    const short = await round('short', (i) => `short ${i}`);
    const text = 'x'.repeat(textKib * 1024);
    const long = await round('long', (i) => `long ${i} ${text}`);

    const sample: Record<string, number> = {};
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', '*{s:long-0}*', 'COUNT', 1000);
      cursor = next;
      for (const key of keys) sample[kindOf(key)] = (sample[kindOf(key)] ?? 0) + Number(await redis.memory('USAGE', key, 'SAMPLES', '0'));
    } while (cursor !== '0');
    // BullMQ keeps the last completed jobs (keepCompletedJobs, 1000 by default): a bounded cost, measured apart.
    const job = Number(await redis.memory('USAGE', `${new Keys('sizing').queuePrefix}:${TASK_QUEUE}:${ids[0]!}`, 'SAMPLES', '0'));

    log(
      `figures: ${JSON.stringify(
        {
          roots,
          textKib,
          bytesPerSessionWithOneSingleTurnTask: Math.round(short),
          bytesPerSessionWithOneSingleTurnTaskAndTextKib: Math.round(long),
          extraBytesPerKiBOfPromptEchoedInTheAnswer: Math.round((long - short) / textKib),
          sampleSessionMemoryUsageByKeyKind: sample,
          retainedBullmqJobBytes: job,
        },
        null,
        2,
      )}`,
    );
  } finally {
    redis.disconnect();
    await stack.close();
    await server.destroy();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`sizing run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
