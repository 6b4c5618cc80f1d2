/** Starts `node apps/worker/dist/main.js` as a child process for process-level tests. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { REDIS_URL } from '@baton/testkit';

export const WORKER_MAIN = resolve(__dirname, '../../dist/main.js');

/** The test command builds first; a lone `npx jest` run builds the worker if dist is missing. */
export function ensureBuilt(): void {
  if (existsSync(WORKER_MAIN)) return;
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: resolve(__dirname, '../..'), stdio: 'inherit' });
  if (r.status !== 0) throw new Error('could not build apps/worker');
}

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Parsed JSON log lines so far. */
  logs: Record<string, unknown>[];
  stderr: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns a worker with only the given environment (plus PATH) and waits for its "worker ready" line. */
export async function startWorkerProcess(env: Record<string, string>): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [WORKER_MAIN], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const stderr: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => res({ code, signal })),
  );
  const ready = new Promise<void>((res, rej) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (entry.msg === 'worker ready') res();
      } catch {
        stderr.push(line);
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
    void exited.then(({ code }) => rej(new Error(`worker exited (${code}) before ready: ${stderr.join('\n')}`)));
  });
  await ready;
  return {
    child,
    pid: child.pid!,
    logs,
    stderr,
    exited,
    kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
