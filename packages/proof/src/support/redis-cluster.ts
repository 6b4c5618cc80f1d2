/**
 * A local Redis Cluster of three masters (no replicas) for the cluster
 * proofs: three `redis-server --cluster-enabled yes` on free ports in one
 * temporary directory, joined with `redis-cli --cluster create`, ready once
 * every node reports `cluster_state:ok`. `destroy()` kills them and removes
 * the directory.
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort, RedisServer, tempDir } from '@baton/testkit';

const exec = promisify(execFile);

export class RedisCluster {
  private constructor(
    readonly nodes: RedisServer[],
    readonly dir: string,
  ) {}

  /** `redis+cluster://h:p,h:p,h:p`, the form `connectionFromUrl` (and REDIS_URL) accept. */
  get url(): string {
    return `redis+cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  static async start(masters = 3): Promise<RedisCluster> {
    const dir = tempDir('cluster');
    const nodes: RedisServer[] = [];
    try {
      for (let i = 0; i < masters; i++) {
        const port = await freePort();
        nodes.push(
          await RedisServer.start('cluster', ['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--appendonly', 'no'], port, dir),
        );
      }
      await exec('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
      for (const node of nodes) await waitForClusterOk(node.port);
      return new RedisCluster(nodes, dir);
    } catch (err) {
      for (const n of nodes) await n.crash();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async destroy(): Promise<void> {
    for (const n of this.nodes) await n.crash();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function waitForClusterOk(port: number, timeoutMs = 20_000): Promise<void> {
  const client = new Redis({ port, host: '127.0.0.1' });
  try {
    const start = Date.now();
    for (;;) {
      const info = String(await client.call('CLUSTER', 'INFO'));
      if (info.includes('cluster_state:ok')) return;
      if (Date.now() - start > timeoutMs) throw new Error(`node ${port}: cluster not ok within ${timeoutMs} ms:\n${info}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    client.disconnect();
  }
}
