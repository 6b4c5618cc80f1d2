/**
 * The Restate server as a child process: the binary that npm's
 * `@restatedev/restate-server` ships in its per-platform optional dependency
 * (`@restatedev/restate-server-<os>-<arch>/bin/restate-server`; the package's
 * own bin is a node wrapper that spawns it, so we spawn the binary directly
 * and own its pid). Single node, all roles, its own temp base dir and free
 * TCP ports on 127.0.0.1 (no unix sockets), telemetry off (no network needed).
 * `stop` kills it (SIGTERM, then SIGKILL after 10 s) and deletes the data dir.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, closeSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export function restateServerVersion(): string {
  return (JSON.parse(readFileSync(require.resolve('@restatedev/restate-server/package.json'), 'utf8')) as { version: string }).version;
}

function binaryPath(): string {
  const pkg = `@restatedev/restate-server-${platform()}-${arch()}`;
  try {
    // The platform package is a dependency of @restatedev/restate-server, not of the bench: resolve from there.
    return require.resolve(`${pkg}/bin/restate-server`, { paths: [require.resolve('@restatedev/restate-server/package.json')] });
  } catch {
    throw new Error(`no Restate server binary for ${platform()}-${arch()}: ${pkg} is not installed (npm ships linux/darwin x64/arm64 only)`);
  }
}

/** A TCP port free right now on 127.0.0.1 (the OS picks it; the server binds it a moment later). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export class RestateServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly dataDir: string,
    readonly ingressUrl: string,
    readonly adminUrl: string,
  ) {}

  static async start(): Promise<RestateServer> {
    const binary = binaryPath();
    const [ingress, admin, fabric] = [await freePort(), await freePort(), await freePort()];
    const dataDir = mkdtempSync(join(tmpdir(), 'bench-restate-'));
    const log = openSync(join(dataDir, 'server.log'), 'a');
    const child = spawn(binary, ['--no-logo', '--listen-mode', 'tcp', '--node-name', 'bench', '--base-dir', join(dataDir, 'data')], {
      env: {
        ...process.env,
        RESTATE_INGRESS__BIND_ADDRESS: `127.0.0.1:${ingress}`,
        RESTATE_ADMIN__BIND_ADDRESS: `127.0.0.1:${admin}`,
        RESTATE_BIND_ADDRESS: `127.0.0.1:${fabric}`,
        RESTATE_ADVERTISED_ADDRESS: `http://127.0.0.1:${fabric}`,
        RESTATE_DISABLE_TELEMETRY: 'true',
        RESTATE_LOG_FILTER: 'warn',
        RESTATE_LOG_DISABLE_ANSI_CODES: 'true',
        // The default (2 GiB) is sized for a dedicated host; the bench data fits in far less.
        RESTATE_ROCKSDB_TOTAL_MEMORY_SIZE: '512MiB',
      },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    const server = new RestateServer(child, dataDir, `http://127.0.0.1:${ingress}`, `http://127.0.0.1:${admin}`);
    // If the bench dies, the server must not outlive it.
    process.once('exit', server.killNow);
    try {
      await server.waitHealthy(60_000);
    } catch (err) {
      const tail = server.logTail();
      await server.stop();
      throw new Error(`${(err as Error).message}; server log: ${tail}`);
    }
    return server;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private readonly killNow = (): void => {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  };

  private async waitHealthy(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = 'no answer';
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null)
        throw new Error(`restate-server exited (${this.child.exitCode ?? this.child.signalCode}) while starting`);
      try {
        const [admin, ingress] = await Promise.all([fetch(`${this.adminUrl}/health`), fetch(`${this.ingressUrl}/restate/health`)]);
        if (admin.ok && ingress.ok) return;
        last = `admin ${admin.status}, ingress ${ingress.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await sleep(200);
    }
    throw new Error(`restate-server not healthy after ${timeoutMs} ms (${last})`);
  }

  /** Registers a service endpoint (`uri` served over HTTP/2 cleartext) with the admin API. */
  async register(uri: string): Promise<void> {
    const res = await fetch(`${this.adminUrl}/deployments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uri, force: true }),
    });
    if (!res.ok) throw new Error(`POST /deployments ${uri}: ${res.status} ${await res.text()}`);
  }

  logTail(chars = 1500): string {
    try {
      return readFileSync(join(this.dataDir, 'server.log'), 'utf8').slice(-chars).trim() || '(empty)';
    } catch {
      return '(no log)';
    }
  }

  /** CPU seconds (user + sys) the server process used so far, from /proc (Linux; NaN elsewhere). */
  cpuSeconds(): number {
    try {
      const stat = readFileSync(`/proc/${this.child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // Fields 14 and 15 of /proc/<pid>/stat (utime, stime), counted from after the command name; USER_HZ is 100 on Linux.
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return Number.NaN;
    }
  }

  async stop(): Promise<void> {
    process.off('exit', this.killNow);
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      const timer = setTimeout(this.killNow, 10_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
