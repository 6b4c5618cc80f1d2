import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

/**
 * A redis-server of the test's own, on a free port, without persistence:
 * for tests that count connections or read server-wide figures, which other
 * tests on the shared Redis would disturb.
 */
export class PrivateRedis {
  private child: ChildProcess | null = null;

  private constructor(
    private readonly dir: string,
    readonly port: number,
    private readonly appendOnly: boolean,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** `appendOnly`: keep the data across `restart()` (AOF, fsync always). */
  static async start(options: { appendOnly?: boolean } = {}): Promise<PrivateRedis> {
    const port = await new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const { port: p } = server.address() as { port: number };
        server.close(() => resolve(p));
      });
    });
    const redis = new PrivateRedis(mkdtempSync(join(tmpdir(), 'baton-api-redis-')), port, options.appendOnly ?? false);
    await redis.spawn();
    return redis;
  }

  /** Kills the server (SIGKILL: a crash) and starts it again on the same port and directory. */
  async restart(): Promise<void> {
    await this.kill();
    await this.spawn();
  }

  /** SIGKILL, and wait for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  }

  private async spawn(): Promise<void> {
    const { port } = this;
    const persistence = this.appendOnly ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '', ...persistence, '--maxclients', '10000'], {
      stdio: 'ignore',
    });
    this.child = child;
    const start = Date.now();
    for (;;) {
      const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
      client.on('error', () => undefined); // refused until it listens
      try {
        await client.connect();
        if ((await client.ping()) === 'PONG') return;
      } catch {
        // not listening yet
      } finally {
        client.disconnect();
      }
      if (Date.now() - start > 20_000 || child.exitCode !== null) {
        await this.stop();
        throw new Error(`redis-server on port ${port} did not start`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
