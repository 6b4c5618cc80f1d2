/**
 * Process entry: one provider client of the `sdk` benchmark (sdk-clients.ts)
 * in a process of its own, so its CPU time, its RSS and what loading it
 * costs are its own. Talks over IPC (see child-process.ts):
 * - `{cmd: 'load', name, urls}`: loads the client's modules and builds one
 *   client per base URL -> LoadFigures;
 * - `{cmd: 'run', url, n, concurrency, warmup, tag}`: `warmup` calls (not
 *   counted), then `n` calls with `concurrency` in flight -> RunFigures.
 * Exits on disconnect.
 */
import { loadClient, type BenchClient, type ClientName } from './sdk-clients';
import { nowMs, percentile, pool } from './stats';

export interface LoadFigures {
  loadMs: number;
  rssBeforeMiB: number;
  rssAfterMiB: number;
}

export interface RunFigures {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Process CPU (user + system) per request, ms. */
  cpuMsPerRequest: number;
  /** RSS after the run minus before it (after the warm-up), MiB. */
  rssDeltaMiB: number;
  /** Calls that rejected, or answered without the expected tool call. */
  failures: number;
  firstFailure?: string;
}

const MiB = 1024 * 1024;
const clients = new Map<string, BenchClient>();

async function load(name: ClientName, urls: string[]): Promise<LoadFigures> {
  // What the worker has loaded whatever its client (Baton's provider files import @baton/core's schemas): not the client's cost.
  await Promise.all([import('@baton/core'), import('zod')]);
  const rssBefore = process.memoryUsage.rss();
  const t0 = nowMs();
  for (const url of urls) clients.set(url, await loadClient(name, url));
  const loadMs = nowMs() - t0;
  return { loadMs, rssBeforeMiB: rssBefore / MiB, rssAfterMiB: process.memoryUsage.rss() / MiB };
}

async function run(url: string, n: number, concurrency: number, warmup: number, tag: string): Promise<RunFigures> {
  const client = clients.get(url);
  if (!client) throw new Error(`no client loaded for ${url}`);
  let failures = 0;
  let firstFailure: string | undefined;
  const signal = new AbortController().signal;
  const one = async (key: string): Promise<void> => {
    try {
      const tool = await client.call(key, signal);
      if (tool !== 'attempt_completion') throw new Error(`unexpected answer: tool ${JSON.stringify(tool)}`);
    } catch (err) {
      failures++;
      firstFailure ??= String(err);
    }
  };
  await pool(
    Array.from({ length: warmup }, (_, i) => `${tag}-w${i}:1`),
    concurrency,
    (key) => one(key),
  );
  failures = 0;
  firstFailure = undefined;
  const latencies = new Array<number>(n);
  const rssBefore = process.memoryUsage.rss();
  const cpuBefore = process.cpuUsage();
  const started = nowMs();
  await pool(
    Array.from({ length: n }, (_, i) => `${tag}-${i}:1`),
    concurrency,
    async (key, i) => {
      const t0 = nowMs();
      await one(key);
      latencies[i] = nowMs() - t0;
    },
  );
  const ms = nowMs() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return {
    perSecond: (n * 1000) / ms,
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
    cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / n,
    rssDeltaMiB: (process.memoryUsage.rss() - rssBefore) / MiB,
    failures,
    ...(firstFailure ? { firstFailure } : {}),
  };
}

type Command =
  | { id: number; cmd: 'load'; name: ClientName; urls: string[] }
  | { id: number; cmd: 'run'; url: string; n: number; concurrency: number; warmup: number; tag: string };

process.on('message', (msg: Command) => {
  const work = msg.cmd === 'load' ? load(msg.name, msg.urls) : run(msg.url, msg.n, msg.concurrency, msg.warmup, msg.tag);
  work.then(
    (result) => process.send?.({ id: msg.id, result }),
    (err: unknown) => process.send?.({ id: msg.id, result: { error: String(err) } }),
  );
});
process.on('disconnect', () => {
  for (const c of clients.values()) c.close();
  process.exit(0);
});
process.send?.({ ready: true });
