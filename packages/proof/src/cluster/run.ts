/**
 * Redis Cluster proof: starts a local 3-master cluster (redis-server
 * --cluster-enabled yes x3, redis-cli --cluster create), runs the engine's
 * integration tests (`jest packages/core`: submit, lanes, subtasks, gate,
 * cancel, pause, reconciler, stale runners) with REDIS_URL=redis+cluster://...,
 * then the end-to-end smoke (api + worker processes on the cluster), and tears
 * everything down.
 *
 *   node packages/proof/dist/cluster/run.js [--skip-core] [--sessions 20]
 * Exit 0 when everything passed.
 */
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from '@baton/testkit';
import { numberOption } from '../support/cli-options';
import { RedisCluster } from '../support/redis-cluster';
import { clusterSmoke } from './cluster-smoke';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const cluster = await RedisCluster.start();
  log(`cluster up: ${cluster.url}`);
  try {
    let coreOk = true;
    if (!argv.includes('--skip-core')) {
      log('engine integration tests on the cluster: jest packages/core');
      // --forceExit: a connection left open by a failing suite must not hang the run (failures still fail it).
      const r = spawnSync('npx', ['jest', 'packages/core', '--forceExit'], {
        cwd: REPO_ROOT,
        stdio: 'inherit',
        env: { ...process.env, REDIS_URL: cluster.url },
      });
      coreOk = r.status === 0;
      log(`${coreOk ? 'PASS' : 'FAIL'}  engine integration tests on the cluster`);
    }
    const { figures, checks } = await clusterSmoke(cluster.url, numberOption(argv, 'sessions', 'CLUSTER_SESSIONS', 20));
    log(`end-to-end smoke figures: ${JSON.stringify(figures, null, 2)}`);
    for (const [name, ok] of Object.entries(checks)) log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
    return coreOk && Object.values(checks).every(Boolean) ? 0 : 1;
  } finally {
    await cluster.destroy();
    log('cluster torn down');
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cluster run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
