/**
 * `pnpm bench`: runs the benchmarks against REDIS_URL (the soak
 * starts a private redis-server of its own), prints a
 * table and writes RESULTS.md (machine, versions, date, every figure side
 * by side with its target). Flags: see options.ts (`--quick`, `--only=...`).
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { benchDuplicates } from './bench-duplicates';
import { benchEnqueue } from './bench-enqueue';
import { benchHandoff } from './bench-handoff';
import { benchLimiter } from './bench-limiter';
import { benchScale } from './bench-scale';
import { benchSoak } from './bench-soak';
import { benchResume } from './bench-resume';
import { benchThroughput } from './bench-throughput';
import { benchSdk } from './bench-sdk';
import { benchSse } from './bench-sse';
import { benchStream } from './bench-stream';
import { benchGroupmq } from './peers/groupmq';
import { benchRestate } from './peers/restate';
import { RemoteFakeProvider } from './fake-provider-client';
import { machineInfo, renderMarkdown, renderTable } from './render';
import { parseOptions, type BenchName, type BenchOptions } from './options';
import type { BenchReport } from './report';

/** `earlier`: the reports of this run so far (peers read Baton's figures from them). */
type Runner = (o: BenchOptions, fake: RemoteFakeProvider, earlier: BenchReport[]) => Promise<BenchReport>;

const RUNNERS: Partial<Record<BenchName, Runner>> = {
  throughput: benchThroughput,
  resume: benchResume,
  sse: benchSse,
  handoff: benchHandoff,
  enqueue: benchEnqueue,
  scale: benchScale,
  duplicates: benchDuplicates,
  soak: benchSoak,
  groupmq: benchGroupmq,
  restate: benchRestate,
  limiter: benchLimiter,
  sdk: benchSdk,
  stream: benchStream,
};

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2), process.env);
  const redis = new Redis(options.redisUrl);
  const machine = await machineInfo(redis);
  redis.disconnect();
  const fake = await RemoteFakeProvider.start();
  const reports: BenchReport[] = [];
  const started = Date.now();
  try {
    for (const name of options.only) {
      const runner = RUNNERS[name];
      if (!runner) continue;
      const t0 = Date.now();
      process.stdout.write(`running ${name} ...\n`);
      const report = await runner(options, fake, reports);
      reports.push(report);
      process.stdout.write(`${renderTable([report])}\n(${((Date.now() - t0) / 1000).toFixed(1)} s)\n\n`);
    }
  } finally {
    await fake.close();
  }
  const elapsed = (Date.now() - started) / 1000;
  process.stdout.write(`\n${renderTable(reports)}\n\nall benchmarks: ${elapsed.toFixed(0)} s\n`);
  if (options.resultsFile) {
    const file = resolve(process.cwd(), options.resultsFile);
    writeFileSync(file, renderMarkdown(machine, options, reports, elapsed));
    process.stdout.write(`wrote ${file}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
