import { RedisCluster } from '../support/redis-cluster';
import { clusterSmoke } from './cluster-smoke';

/**
 * A local 3-master Redis Cluster, and Baton's api + worker processes on it
 * (`REDIS_URL=redis+cluster://...`): trees, replay, pause/resume, cancel,
 * events and the invariants (see cluster-smoke.ts). The engine's own
 * integration tests run on the cluster with `node packages/proof/dist/cluster/run.js`.
 */
describe('Redis Cluster (3 masters)', () => {
  let cluster: RedisCluster | undefined;
  afterAll(async () => {
    await cluster?.destroy();
  });

  it('end-to-end smoke: api + 2 workers on the cluster keep every invariant', async () => {
    cluster = await RedisCluster.start();
    const { checks } = await clusterSmoke(cluster.url, 20);
    expect(checks).toEqual(Object.fromEntries(Object.keys(checks).map((name) => [name, true])));
  });
});
