/**
 * Queue shards on a Redis Cluster: the same workload (N sessions, each one
 * orchestrator root with 2 subtasks, through the API and two worker processes)
 * run with QUEUE_SHARDS=1 and QUEUE_SHARDS=6 on a local 3-master cluster, with
 * `INFO commandstats` read on every master after each run (CONFIG RESETSTAT
 * before). With one shard the one queue's master carries every queue command
 * (about a quarter of a task's commands) on top of its share of the session
 * keys; with 6 shards, evenly spaced over the slots (Keys.queuePrefixOf), each
 * master carries 2 queues.
 *
 * Balance: max/min of the masters' summed command calls; the 6-shard run must
 * be at most 1.25 (max/mean is printed too). The 1-shard run is printed for
 * comparison and is expected to be above it.
 *
 *   node packages/proof/dist/cluster/shard-balance.js [--sessions 300]
 * Exit 0 when the 6-shard run is balanced within 25% and every task completed.
 */
import { Cluster, Redis } from 'ioredis';
import { Keys } from '@baton/core';
import { BatonStack } from '../support/baton-stack';
import { numberOption } from '../support/cli-options';
import { runLimited } from '../support/invariants';
import { RedisCluster } from '../support/redis-cluster';
import { waitForStatus } from '../support/waits';

/** Highest max/min of the masters' command counts with 6 shards. */
const BALANCED = 1.25;

export interface ShardRun {
  shards: number;
  tasks: number;
  completedRoots: number;
  /** Summed `calls` of every command in INFO commandstats, per master (in port order). */
  calls: number[];
  maxOverMin: number;
  maxOverMean: number;
  commandsPerTask: number;
  wallSeconds: number;
}

export async function shardRun(cluster: RedisCluster, shards: number, sessions: number): Promise<ShardRun> {
  const started = Date.now();
  const env = { QUEUE_SHARDS: String(shards) };
  // The workers' production defaults, not the stack's short recovery intervals (made for the crash
  // proofs): a reconciler pass every 500 ms from each worker would add a load of its own to the one
  // master of the reconciler lock's slot, which is not what this run measures.
  const workerEnv = { ...env, RECONCILE_INTERVAL_MS: '5000', WORKER_LOCK_DURATION_MS: '30000', WORKER_STALLED_INTERVAL_MS: '30000' };
  const stack = await BatonStack.start(`shards${shards}`, { redisUrl: cluster.url, workers: 2, apiEnv: env, workerEnv, readyTimeoutMs: 90_000 });
  const nodes = cluster.nodes.map((n) => new Redis({ port: n.port, host: '127.0.0.1' }));
  try {
    await Promise.all(nodes.map((n) => n.config('RESETSTAT')));
    const roots = new Array<string>(sessions);
    await runLimited(
      Array.from({ length: sessions }, (_, i) => i),
      16,
      async (i) => {
        roots[i] = (await stack.client.submit(`sb-${i}`, { prompt: `shard balance ${i} in 2 steps` })).task.id;
      },
    );
    // Waited for on the engine's totals (one HGETALL per poll), not by reading every task through the
    // API: the counts below are the engine's commands, not the proof's polling.
    const tasks = await allEnded(cluster.url, stack.prefix, sessions);
    const calls = await Promise.all(nodes.map(async (n) => commandCalls(String(await n.info('commandstats')))));
    const done = await waitForStatus(stack.client, roots, undefined, 60_000);
    const total = calls.reduce((a, b) => a + b, 0);
    const mean = total / calls.length;
    return {
      shards,
      tasks,
      completedRoots: done.filter((t) => t.status === 'completed').length,
      calls,
      maxOverMin: round(Math.max(...calls) / Math.min(...calls)),
      maxOverMean: round(Math.max(...calls) / mean),
      commandsPerTask: round(total / tasks),
      wallSeconds: round((Date.now() - started) / 1000),
    };
  } finally {
    for (const n of nodes) n.disconnect();
    await stack.close();
  }
}

/** Sum of `calls=` over every `cmdstat_<name>` line. */
export function commandCalls(info: string): number {
  let sum = 0;
  for (const m of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) sum += Number(m[1]);
  return sum;
}

/** Resolves with the number of tasks once every root was created and every task created has ended. */
async function allEnded(url: string, prefix: string, roots: number, timeoutMs = 180_000): Promise<number> {
  const seeds = url
    .slice('redis+cluster://'.length)
    .split(',')
    .map((hp) => ({ host: hp.split(':')[0]!, port: Number(hp.split(':')[1]) }));
  const cluster = new Cluster(seeds);
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const stats = await cluster.hgetall(new Keys(prefix).stats());
      const created = Number(stats['created:root'] ?? 0) + Number(stats['created:child'] ?? 0);
      const ended = Object.entries(stats)
        .filter(([k]) => k.startsWith('ended:'))
        .reduce((a, [, v]) => a + Number(v), 0);
      if (Number(stats['created:root'] ?? 0) >= roots && ended >= created) return created;
      if (Date.now() > deadline) throw new Error(`tasks not all ended within ${timeoutMs} ms: ${JSON.stringify(stats)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    cluster.disconnect();
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

export function formatRun(r: ShardRun, ports: number[]): string {
  const mean = r.calls.reduce((a, b) => a + b, 0) / r.calls.length;
  const rows = r.calls.map((c, i) => `  master :${ports[i]}  ${String(c).padStart(9)} calls  ${String(Math.round((c / mean) * 100)).padStart(4)}% of mean`);
  return [
    `QUEUE_SHARDS=${r.shards}: ${r.tasks} tasks (${r.completedRoots} roots completed), ${r.commandsPerTask} commands per task, ${r.wallSeconds} s`,
    ...rows,
    `  max/min ${r.maxOverMin}, max/mean ${r.maxOverMean}`,
  ].join('\n');
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const sessions = numberOption(argv, 'sessions', 'SHARD_BALANCE_SESSIONS', 300);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const cluster = await RedisCluster.start();
  log(`cluster up: ${cluster.url}; ${sessions} sessions per run, each a root with 2 subtasks`);
  try {
    const ports = cluster.nodes.map((n) => n.port);
    const one = await shardRun(cluster, 1, sessions);
    log(formatRun(one, ports));
    const six = await shardRun(cluster, 6, sessions);
    log(formatRun(six, ports));
    const checks = {
      'every root completed, in both runs': one.completedRoots === sessions && six.completedRoots === sessions,
      [`QUEUE_SHARDS=6: masters balanced within 25% (max/min ${six.maxOverMin} <= ${BALANCED})`]: six.maxOverMin <= BALANCED,
      [`QUEUE_SHARDS=1 is more skewed than QUEUE_SHARDS=6 (max/min ${one.maxOverMin} > ${six.maxOverMin})`]: one.maxOverMin > six.maxOverMin,
    };
    for (const [name, ok] of Object.entries(checks)) log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
    return Object.values(checks).every(Boolean) ? 0 : 1;
  } finally {
    await cluster.destroy();
    log('cluster torn down');
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`shard balance run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(2);
    },
  );
}
