import { parseArgs } from 'node:util';

/**
 * Benchmark sizes, from flags (`--name=value`) or environment (`BENCH_NAME`),
 * with a `--quick` preset (a couple of minutes) and the full defaults
 * (under ~15 minutes on 2 cores). `--only=throughput,resume` runs a subset.
 */

export const BENCH_NAMES = [
  'throughput',
  'resume',
  'handoff',
  'enqueue',
  'scale',
  'duplicates',
  'soak',
  'sse',
  'peers',
  'groupmq',
  'restate',
  'limiter',
  'sdk',
  'stream',
] as const;
export type BenchName = (typeof BENCH_NAMES)[number];

/** Peers compare against Baton's figures from the same run, so they run after Baton's benchmarks; `peers` is both. */
export const PEER_NAMES: readonly BenchName[] = ['groupmq', 'restate'];

export interface BenchOptions {
  quick: boolean;
  only: BenchName[];
  redisUrl: string;
  /** Worker concurrency for every worker (Baton and baselines). */
  concurrency: number;
  /** Throughput: tasks per side. */
  throughputTasks: number;
  /** Throughput: raw no-op jobs. */
  noopJobs: number;
  /** Resume latency: orchestrator sessions (each with `resumeSteps` subtasks) and how many run at once. */
  resumeSessions: number;
  resumeParallel: number;
  resumeSteps: number;
  /** Handoff: sessions, roots per session, baseline deferral delay. */
  handoffSessions: number;
  handoffRoots: number;
  handoffDelayMs: number;
  /** Enqueue: autocannon seconds per side and connections. */
  enqueueSeconds: number;
  enqueueConnections: number;
  /** SSE: concurrent streams on one API process, over this many sessions. */
  sseStreams: number;
  sseSessions: number;
  /** Scale: sessions (orchestrator with 2 subtasks each), conversations checked (0 = all). */
  scaleSessions: number;
  scaleCheckConversations: number;
  /** Scale: worker processes (0 = in-process worker). */
  scaleWorkerProcesses: number;
  /** Duplicates: sessions per side. */
  duplicateSessions: number;
  /** Soak: single-turn tasks, over how many sessions, with what RETENTION_MS and reconciler interval. */
  soakTasks: number;
  soakSessions: number;
  soakRetentionMs: number;
  soakReconcileMs: number;
  /** Soak: how long after RETENTION_MS the data may take to be gone before the row is MISSED. */
  soakExpiryTimeoutMs: number;
  /** SDK comparison: requests per client and configuration (fake latency x concurrency). */
  sdkRequests: number;
  /** Where RESULTS.md goes ('' = do not write). */
  resultsFile: string;
}

const FULL = {
  concurrency: 16,
  throughputTasks: 6000,
  noopJobs: 20000,
  resumeSessions: 400,
  resumeParallel: 8,
  resumeSteps: 2,
  handoffSessions: 8,
  handoffRoots: 60,
  handoffDelayMs: 10,
  enqueueSeconds: 10,
  enqueueConnections: 32,
  sseStreams: 1000,
  sseSessions: 100,
  scaleSessions: 10_000,
  scaleCheckConversations: 1000,
  scaleWorkerProcesses: 0,
  duplicateSessions: 20,
  soakTasks: 20_000,
  soakSessions: 2000,
  soakRetentionMs: 5000,
  soakReconcileMs: 1000,
  soakExpiryTimeoutMs: 60_000,
  sdkRequests: 5000,
};

const QUICK: typeof FULL = {
  ...FULL,
  throughputTasks: 1500,
  noopJobs: 5000,
  resumeSessions: 100,
  handoffRoots: 20,
  enqueueSeconds: 4,
  scaleSessions: 1000,
  scaleCheckConversations: 200,
  duplicateSessions: 10,
  soakTasks: 4000,
  soakSessions: 400,
  sdkRequests: 500,
};

function camelToKebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function camelToUpper(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase();
}

export function parseOptions(argv: string[], env: Record<string, string | undefined>): BenchOptions {
  // Flags are the kebab-case names of the sizes (`--throughput-tasks=2000`), plus --quick, --only, --results.
  const sizeFlags = Object.fromEntries(Object.keys(FULL).map((key) => [camelToKebab(key), { type: 'string' as const }]));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { ...sizeFlags, quick: { type: 'boolean' }, only: { type: 'string' }, results: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message} (flags are --name=value; sizes: ${Object.keys(sizeFlags).join(', ')})`);
  }
  const flags = new Map<string, string>();
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined)
      flags.set(
        name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase()),
        String(value),
      );
  }
  const quick = flags.get('quick') === 'true' || env.BENCH_QUICK === '1';
  const base = quick ? QUICK : FULL;
  const sizes = { ...base } as Record<keyof typeof FULL, number>;
  for (const key of Object.keys(base) as (keyof typeof FULL)[]) {
    const raw = flags.get(key) ?? env[`BENCH_${camelToUpper(key)}`];
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--${key}: expected a number, got ${raw}`);
    sizes[key] = value;
  }
  const onlyRaw = flags.get('only') ?? env.BENCH_ONLY;
  const only = onlyRaw ? onlyRaw.split(',').map((s) => s.trim()) : [...BENCH_NAMES];
  for (const name of only) {
    if (!(BENCH_NAMES as readonly string[]).includes(name)) throw new Error(`--only: unknown benchmark ${name} (known: ${BENCH_NAMES.join(', ')})`);
  }
  const expanded = [...new Set(only.flatMap((name) => (name === 'peers' ? PEER_NAMES : [name as BenchName])))];
  // Stable: Baton's benchmarks keep their order, peers go last.
  expanded.sort((a, b) => Number(PEER_NAMES.includes(a)) - Number(PEER_NAMES.includes(b)));
  return {
    quick,
    only: expanded,
    redisUrl: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    ...sizes,
    resultsFile: flags.get('results') ?? env.BENCH_RESULTS ?? 'RESULTS.md',
  };
}
