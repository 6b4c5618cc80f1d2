/** Starts built processes (`node apps/{api,worker}/dist/main.js`) for black-box tests, parsing their JSON log lines. */
import { REDIS_URL } from '@baton/testkit';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const API_MAIN = resolve(__dirname, '../../dist/main.js');
export const WORKER_MAIN = resolve(__dirname, '../../../worker/dist/main.js');

export interface Proc {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  output: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node <main>` with only `env` (plus PATH and REDIS_URL); resolves once a log line matches `ready`. */
export async function startProcess(main: string, env: Record<string, string>, ready: (entry: Record<string, unknown>) => boolean): Promise<Proc> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run pnpm build first`);
  const child = spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? '', REDIS_URL, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const output: string[] = [];
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.once('exit', (code, signal) => res({ code, signal })));
  await new Promise<void>((res, rej) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      output.push(line);
      try {
        const entry = JSON.parse(line) as Record<string, unknown>;
        logs.push(entry);
        if (ready(entry)) res();
      } catch {
        // not a log line
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => output.push(line));
    void exited.then(({ code }) => rej(new Error(`${main} exited (${code}) before ready:\n${output.join('\n')}`)));
  });
  return {
    child,
    logs,
    output,
    exited,
    stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}
