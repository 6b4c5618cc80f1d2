/**
 * Private redis-server processes, for tests and proofs that kill, freeze,
 * fill or count a server of their own (the shared Redis must not be disturbed):
 * started on a free port in a temporary directory, pinged until they answer,
 * killed with SIGKILL (a crash, not a shutdown) and restarted on the same
 * port and directory. Every server and directory is removed by `destroy()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { Redis } from 'ioredis';

/** A port nobody listens on right now (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export function tempDir(name: string): string {
  return mkdtempSync(join(tmpdir(), `baton-${name}-`));
}

/** Resolves once `redis-cli ping` equivalent answers on the port. */
export async function waitForRedis(port: number, timeoutMs = 20_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined); // refused while down: expected, retried below
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not up yet (or still loading its AOF)
    } finally {
      client.disconnect();
    }
    if (Date.now() - start > timeoutMs) throw new Error(`redis on port ${port} did not answer within ${timeoutMs} ms`);
    await wait(50);
  }
}

export class RedisServer {
  private child: ChildProcess | undefined;
  output = '';

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly extraArgs: string[],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  static async start(name: string, extraArgs: string[] = [], port?: number, dir?: string): Promise<RedisServer> {
    const server = new RedisServer(port ?? (await freePort()), dir ?? tempDir(name), extraArgs);
    await server.start();
    return server;
  }

  async start(): Promise<void> {
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...this.extraArgs], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.output += s));
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.output += s));
    this.child = child;
    await waitForRedis(this.port);
  }

  /** kill -9: the server dies without a shutdown (no final save, no fsync beyond its policy). */
  async crash(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  /** A crash (kill -9), then the server again on the same port and directory (its AOF, if any). */
  async restart(): Promise<void> {
    await this.crash();
    await this.start();
  }

  /** Stops the server and removes its directory. */
  async destroy(): Promise<void> {
    await this.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
