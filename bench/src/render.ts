/** The results table (terminal) and bench/RESULTS.md. */
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import type { Redis } from 'ioredis';
import type { BenchOptions } from './options';
import { redisVersion } from './redis-probe';
import type { BenchReport, ResultRow } from './report';

export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryGiB: string;
  node: string;
  redis: string;
  bullmq: string;
  date: string;
}

function packageVersion(name: string): string {
  try {
    const path = require.resolve(`${name}/package.json`);
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  } catch {
    // bullmq's exports map hides package.json: find it from the main entry.
    const main = require.resolve(name);
    const root = main.slice(0, main.lastIndexOf(`/node_modules/${name}/`) + `/node_modules/${name}/`.length);
    return (JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string }).version;
  }
}

export async function machineInfo(redis: Redis): Promise<MachineInfo> {
  const list = cpus();
  return {
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGiB: (totalmem() / 1024 ** 3).toFixed(1),
    node: process.version,
    redis: await redisVersion(redis),
    bullmq: packageVersion('bullmq'),
    date: new Date().toISOString(),
  };
}

const COLUMNS: [keyof ResultRow, string][] = [
  ['bench', 'benchmark'],
  ['metric', 'metric'],
  ['baton', 'Baton'],
  ['baseline', 'baseline'],
  ['baselineName', 'baseline is'],
  ['target', 'target'],
  ['verdict', 'verdict'],
  ['note', 'note'],
];

export function renderTable(reports: BenchReport[]): string {
  const rows = reports.flatMap((r) => r.rows);
  const cells = rows.map((row) => COLUMNS.map(([key]) => String(row[key] ?? '')));
  const widths = COLUMNS.map(([, title], i) => Math.min(60, Math.max(title.length, ...cells.map((c) => c[i]!.length))));
  const line = (values: string[]) => values.map((v, i) => (v.length > widths[i]! ? `${v.slice(0, widths[i]! - 1)}~` : v.padEnd(widths[i]!))).join(' | ');
  return [line(COLUMNS.map(([, t]) => t)), widths.map((w) => '-'.repeat(w)).join('-+-'), ...cells.map(line)].join('\n');
}

const escape = (s: string) => s.replace(/\|/g, '\\|');

export function renderMarkdown(machine: MachineInfo, options: BenchOptions, reports: BenchReport[], elapsedS: number): string {
  const out: string[] = [];
  out.push('# Baton benchmarks', '');
  out.push(
    'Written by `pnpm bench` (bench/src/run.ts). Every figure below was measured in the same run, on the same Redis, side by side with its baseline.',
    '',
  );
  out.push('## Machine and versions', '');
  out.push(`- CPU: ${machine.cpus} x ${machine.cpuModel}`);
  out.push(`- Memory: ${machine.memoryGiB} GiB`);
  out.push(`- Node ${machine.node}, Redis ${machine.redis} (${options.redisUrl.replace(/\/\/[^@]*@/, '//')}), bullmq ${machine.bullmq}`);
  out.push(`- Date: ${machine.date}; mode: ${options.quick ? '--quick' : 'full'}; total time ${elapsedS.toFixed(0)} s`);
  out.push(
    `- Sizes: concurrency ${options.concurrency}, throughput ${options.throughputTasks} tasks, no-op ${options.noopJobs} jobs, resume ${options.resumeSessions} sessions x ${options.resumeSteps} subtasks (${options.resumeParallel} at once), handoff ${options.handoffSessions} sessions x ${options.handoffRoots} roots (baseline delay ${options.handoffDelayMs} ms), enqueue ${options.enqueueSeconds} s x ${options.enqueueConnections} connections, scale ${options.scaleSessions} sessions, duplicates ${options.duplicateSessions} sessions, soak ${options.soakTasks} tasks over ${options.soakSessions} sessions (RETENTION_MS ${options.soakRetentionMs}), sdk ${options.sdkRequests} requests per client and configuration`,
  );
  out.push('');
  out.push('## Results', '');
  out.push(`| ${COLUMNS.map(([, t]) => t).join(' | ')} |`);
  out.push(`|${COLUMNS.map(() => '---').join('|')}|`);
  for (const row of reports.flatMap((r) => r.rows)) out.push(`| ${COLUMNS.map(([key]) => escape(String(row[key] ?? ''))).join(' | ')} |`);
  out.push('');
  for (const report of reports) {
    out.push(`## ${report.title}`, '');
    for (const note of report.notes) out.push(`- ${note}`);
    out.push('');
  }
  return out.join('\n');
}
