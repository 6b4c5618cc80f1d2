import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REDIS_URL } from '@baton/testkit';

/**
 * Starts the built Baton processes (`node apps/api/dist/main.js`,
 * `node apps/worker/dist/main.js`, the `baton` CLI) for black-box tests, and
 * waits on what they print (the "listening" / "worker ready" log lines), not
 * on timers. Every process is stopped by the test that started it.
 */
export const REPO_ROOT = join(__dirname, '..', '..', '..', '..');
export const API_MAIN = join(REPO_ROOT, 'apps/api/dist/main.js');
export const WORKER_MAIN = join(REPO_ROOT, 'apps/worker/dist/main.js');
export const CLI_MAIN = join(REPO_ROOT, 'packages/client/dist/cli.js');

export class BatonProcess {
  output = '';
  readonly exited: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (this.output += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (this.output += s));
    this.exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const check = () => {
        const match = this.output.match(pattern);
        if (!match) return false;
        cleanup();
        resolve(match);
        return true;
      };
      const onExit = (code: number | null) => {
        if (check()) return;
        cleanup();
        reject(new Error(`${this.name} exited (${code}) before printing ${pattern}:\n${this.output}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name} did not print ${pattern} within ${timeoutMs} ms:\n${this.output}`));
      }, timeoutMs);
      const onData = () => void check();
      const cleanup = () => {
        clearTimeout(timer);
        this.child.stdout?.off('data', onData);
        this.child.stderr?.off('data', onData);
        this.child.off('exit', onExit);
      };
      if (check()) return;
      this.child.stdout?.on('data', onData);
      this.child.stderr?.on('data', onData);
      this.child.once('exit', onExit);
    });
  }

  /** SIGTERM (graceful close), then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

function start(name: string, main: string, env: Record<string, string>): BatonProcess {
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [main], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', REDIS_URL, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new BatonProcess(name, child);
}

export interface ApiProcess extends BatonProcess {
  url: string;
  port: number;
}

/** Starts the API on 127.0.0.1 (PORT 0: a free port, read back from the log) and waits until it listens. */
export async function startApi(prefix: string, env: Record<string, string> = {}): Promise<ApiProcess> {
  const api = start('api', API_MAIN, { BATON_PREFIX: prefix, HOST: '127.0.0.1', PORT: '0', ...env });
  try {
    const [, url] = await api.waitFor(/Server listening at (http:\/\/127\.0\.0\.1:\d+)/);
    return Object.assign(api, { url: url!, port: Number(new URL(url!).port) });
  } catch (err) {
    await api.stop();
    throw err;
  }
}

/** Starts a worker (demo model unless LLM_BASE_URL is given) and waits until it takes jobs. */
export async function startWorker(prefix: string, env: Record<string, string> = {}): Promise<BatonProcess> {
  const worker = start('worker', WORKER_MAIN, { BATON_PREFIX: prefix, DEMO_MODEL_LATENCY_MS: '20', RECONCILE_INTERVAL_MS: '1000', ...env });
  try {
    await worker.waitFor(/worker ready/);
    return worker;
  } catch (err) {
    await worker.stop();
    throw err;
  }
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the built `baton` CLI with node and collects its exit code and output. */
export function baton(args: string[], env: Record<string, string>): Promise<CliResult> {
  return spawnBaton(args, env).result;
}

export interface RunningCli {
  result: Promise<CliResult>;
  /** Resolves once the CLI's stderr matches `pattern` (e.g. the live view's first line). */
  stderrMatches(pattern: RegExp): Promise<void>;
}

export function spawnBaton(args: string[], env: Record<string, string>): RunningCli {
  if (!existsSync(CLI_MAIN)) throw new Error(`${CLI_MAIN} is missing: run \`pnpm build\` first`);
  const child = spawn(process.execPath, [CLI_MAIN, ...args], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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
  const result = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    result,
    stderrMatches: (pattern) =>
      pattern.test(stderr)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ pattern, resolve })),
            result.then((r) => Promise.reject(new Error(`baton exited (${r.code}) before stderr matched ${pattern}:\n${r.stderr}`))),
          ]),
  };
}
