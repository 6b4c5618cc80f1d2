/**
 * Black-box process helpers shared by every package's tests and the proof
 * suites: start the built Baton processes (`node apps/api/dist/main.js`,
 * `node apps/worker/dist/main.js`) or any node script with an explicit
 * environment, wait for readiness on what they print (pino JSON log lines),
 * collect their logs, and stop them with SIGTERM (graceful) or SIGKILL.
 *
 * Plain `node:child_process`: testkit must not depend on @baton/core (core's
 * tests depend on testkit).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REDIS_URL } from './redis';

/** The workspace root (this file is `packages/testkit/{src,dist}/processes.*`). */
export const REPO_ROOT = join(__dirname, '..', '..', '..');
export const API_MAIN = join(REPO_ROOT, 'apps/api/dist/main.js');
export const WORKER_MAIN = join(REPO_ROOT, 'apps/worker/dist/main.js');
export const CLI_MAIN = join(REPO_ROOT, 'packages/client/dist/cli.js');

export interface ExitStatus {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A pino log line of a process. */
export type LogEntry = Record<string, unknown>;

/** What a process is ready on: a pattern of its output, or a predicate over its JSON log lines. */
export type ReadyWhen = RegExp | ((entry: LogEntry) => boolean);

export interface StartOptions {
  /** Environment on top of `PATH`, `REDIS_URL` and `LOG_LEVEL=info` (nothing else is inherited). */
  env?: Record<string, string>;
  /** Resolve `start` once this is seen; without it `start` resolves once the process is spawned. */
  ready?: ReadyWhen;
  readyTimeoutMs?: number;
  args?: string[];
  cwd?: string;
  /** Keep parsed log lines and output (default true; long chaos runs may turn it off). */
  keepLogs?: boolean;
}

/** A running node process with its output and JSON log lines. */
export class BatonProcess {
  /** stdout and stderr, as received (only while `keepLogs`). */
  output = '';
  /** Parsed JSON log lines (stdout), in order (only while `keepLogs`). */
  readonly logs: LogEntry[] = [];
  readonly exited: Promise<ExitStatus>;
  private readonly watchers = new Set<() => void>();
  /** The line being dispatched to watchers, and its parsed log entry. */
  private lastLine = '';
  private lastEntry: LogEntry | undefined;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
    private readonly keepLogs = true,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const onLine = (line: string, fromStdout: boolean) => {
      if (this.keepLogs) this.output += `${line}\n`;
      if (fromStdout && line.startsWith('{')) {
        try {
          const entry = JSON.parse(line) as LogEntry;
          if (this.keepLogs) this.logs.push(entry);
          this.lastEntry = entry;
        } catch {
          // not a log line
        }
      }
      this.lastLine = line;
      for (const w of [...this.watchers]) w();
      this.lastEntry = undefined;
    };
    createInterface({ input: child.stdout! }).on('line', (line) => onLine(line, true));
    createInterface({ input: child.stderr! }).on('line', (line) => onLine(line, false));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /**
   * Resolves with the first output line (or log entry) that matches, past or
   * future; rejects if the process exits first or after `timeoutMs`.
   */
  waitFor(when: ReadyWhen, timeoutMs = 20_000): Promise<{ line: string; match: RegExpMatchArray | null; entry: LogEntry | undefined }> {
    const test = (line: string, entry: LogEntry | undefined) => {
      if (when instanceof RegExp) {
        const match = line.match(when);
        return match ? { line, match, entry } : null;
      }
      return entry && when(entry) ? { line, match: null, entry } : null;
    };
    if (this.keepLogs) {
      for (const line of this.output.split('\n')) {
        let entry: LogEntry | undefined;
        if (!(when instanceof RegExp) && line.startsWith('{')) {
          try {
            entry = JSON.parse(line) as LogEntry;
          } catch {
            entry = undefined;
          }
        }
        const hit = test(line, entry);
        if (hit) return Promise.resolve(hit);
      }
    }
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        this.watchers.delete(watcher);
      };
      const watcher = () => {
        const hit = test(this.lastLine, this.lastEntry);
        if (!hit) return;
        cleanup();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name} did not print ${String(when)} within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      this.watchers.add(watcher);
      void this.exited.then(({ code, signal }) => {
        if (!this.watchers.has(watcher)) return;
        cleanup();
        reject(new Error(`${this.name} exited (${code ?? signal}) before printing ${String(when)}:\n${this.output}`));
      });
    });
  }

  /** Sends `signal` (if still running) and resolves when the process has exited. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ExitStatus> {
    if (this.running) this.child.kill(signal);
    return this.exited;
  }

  /** SIGTERM (graceful close), then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<ExitStatus> {
    if (!this.running) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const status = await this.exited;
    clearTimeout(timer);
    return status;
  }
}

/** Spawns `node <main>` with only `options.env` (plus PATH, REDIS_URL, LOG_LEVEL) and waits until it is ready. */
export async function startProcess(name: string, main: string, options: StartOptions = {}): Promise<BatonProcess> {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [main, ...(options.args ?? [])], {
    cwd: options.cwd ?? REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', REDIS_URL, LOG_LEVEL: 'info', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const proc = new BatonProcess(name, child, options.keepLogs ?? true);
  if (!options.ready) return proc;
  try {
    await proc.waitFor(options.ready, options.readyTimeoutMs ?? 20_000);
    return proc;
  } catch (err) {
    await proc.kill('SIGKILL');
    throw err;
  }
}

export interface ApiProcess extends BatonProcess {
  url: string;
  port: number;
}

/** Starts the API on 127.0.0.1 (PORT 0: a free port, read back from its "Server listening" log line, so LOG_LEVEL must be info or lower). */
export async function startApi(prefix: string, env: Record<string, string> = {}, options: Omit<StartOptions, 'env' | 'ready'> = {}): Promise<ApiProcess> {
  const api = await startProcess('api', API_MAIN, { ...options, env: { BATON_PREFIX: prefix, HOST: '127.0.0.1', PORT: '0', ...env } });
  let url: string;
  try {
    const { match } = await api.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/, options.readyTimeoutMs ?? 20_000);
    url = match![1]!;
  } catch (err) {
    await api.kill('SIGKILL');
    throw err;
  }
  return Object.assign(api, { url, port: Number(new URL(url).port) });
}

/** Starts a worker (the demo model unless LLM_BASE_URL is given) and waits for its "worker ready" line. */
export function startWorker(prefix: string, env: Record<string, string> = {}, options: Omit<StartOptions, 'env' | 'ready'> = {}): Promise<BatonProcess> {
  return startProcess('worker', WORKER_MAIN, {
    ...options,
    env: { BATON_PREFIX: prefix, DEMO_MODEL_LATENCY_MS: '20', RECONCILE_INTERVAL_MS: '1000', ...env },
    ready: (entry) => entry.msg === 'worker ready',
  });
}

/** A lone `npx jest` run (without `pnpm build`) builds a package whose entry is missing. */
export function ensureBuilt(main: string, packageDir: string): void {
  if (existsSync(main)) return;
  const r = spawnSync('npx', ['tsc', '-p', 'tsconfig.build.json'], { cwd: packageDir, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`could not build ${packageDir}`);
}

export interface ScriptResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface RunningScript {
  child: ChildProcess;
  result: Promise<ScriptResult>;
  /** Resolves once stderr matches `pattern`; rejects if the script exits first. */
  stderrMatches(pattern: RegExp): Promise<void>;
}

/** Runs `node <main> ...args` with only `env` (plus PATH) and collects exit code and output. */
export function spawnScript(main: string, args: string[], env: Record<string, string>): RunningScript {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [main, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const waiters: { pattern: RegExp; resolve(): void }[] = [];
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    for (const w of waiters.filter((w) => w.pattern.test(stderr))) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve();
    }
  });
  const result = new Promise<ScriptResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    result,
    stderrMatches: (pattern) =>
      pattern.test(stderr)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
            result.then((r) => Promise.reject(new Error(`${main} exited (${r.code}) before stderr matched ${pattern}:\n${r.stderr}`))),
          ]),
  };
}

/** `spawnScript(...).result`. */
export function runScript(main: string, args: string[], env: Record<string, string>): Promise<ScriptResult> {
  return spawnScript(main, args, env).result;
}
