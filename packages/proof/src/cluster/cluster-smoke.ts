/**
 * End-to-end smoke on a Redis Cluster: the API and two worker processes with
 * `REDIS_URL=redis+cluster://...`, driven over HTTP: orchestrator trees in
 * many sessions (so keys land on every master), a pause/resume, a cancel,
 * the session event stream, and the usual invariants at the end.
 */
import { BatonStack, METRICS_TOKEN } from '../support/baton-stack';
import { Holds } from '../support/holds';
import { checkInvariants, runLimited } from '../support/invariants';
import { taskEvent, waitForEvent, waitForStatus } from '../support/waits';

export interface ClusterSmokeResult {
  figures: Record<string, unknown>;
  checks: Record<string, boolean>;
}

export async function clusterSmoke(redisUrl: string, sessions = 20): Promise<ClusterSmokeResult> {
  const started = Date.now();
  const stack = await BatonStack.start('cluster', { redisUrl, workers: 2 });
  try {
    const { client } = stack;
    const roots: string[] = new Array<string>(sessions);
    await runLimited(
      Array.from({ length: sessions }, (_, i) => i),
      10,
      async (i) => {
        roots[i] = (await client.submit(`cl-${i}`, { prompt: `cluster ${i} in 2 steps`, idempotencyKey: `cl-${i}` })).task.id;
      },
    );
    const replay = await client.submit('cl-0', { prompt: 'cluster 0 in 2 steps', idempotencyKey: 'cl-0' });
    // Pause/resume and cancel on their own sessions.
    const { task: paused } = await client.submit('cl-pause', { prompt: 'paused one in 1 step' });
    await client.pause('cl-pause');
    const { task: queuedWhilePaused } = await client.submit('cl-pause', { prompt: 'after the pause', mode: 'code' });
    await client.resume('cl-pause');
    // The victim's first model request is held at the provider, so the cancel meets a running task
    // (the fake answers at once: without the hold the tree can finish before the cancel arrives).
    const firstCall = new Holds(stack.fake).hold((r) => r.sessionId === 'cl-cancel');
    const { task: victim } = await client.submit('cl-cancel', { prompt: 'cancel me in 3 steps' });
    await firstCall.arrived;
    await client.cancel(victim.id);
    firstCall.release();

    const all = [...roots, paused.id, queuedWhilePaused.id];
    const done = await waitForStatus(client, [...all, victim.id], undefined, 60_000);
    const completedEvent = await waitForEvent(client, 'cl-0', taskEvent(roots[0]!, 'task.completed'));
    const report = await checkInvariants(client, stack.fake, [...all, victim.id]);
    const ready = await fetch(`${stack.api.url}/readyz`);
    const metrics = await fetch(`${stack.api.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    const metricsText = await metrics.text();
    // The engine's totals, counted as tasks ended (one hash, read with one command on any cluster node).
    const metricsCompleted = Number(/baton_tasks_ended_total\{status="completed"\} (\d+)/.exec(metricsText)?.[1] ?? NaN);
    const figures = {
      roots: all.length + 1,
      tasks: report.tasks.length,
      requests: stack.fake.stats.total,
      statuses: Object.fromEntries(['completed', 'cancelled', 'failed'].map((s) => [s, done.filter((t) => t.status === s).length])),
      maxInFlightPerSession: report.maxInFlightPerSession,
      readyz: ready.status,
      metrics: metrics.status,
      metricsCompletedTasks: metricsCompleted,
      actualCompletedTasks: report.tasks.filter((t) => t.status === 'completed').length,
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    };
    const checks = {
      'every submitted root completed (the cancelled one cancelled)': done.every((t) =>
        t.id === victim.id ? t.status === 'cancelled' : t.status === 'completed',
      ),
      'idempotent replay returns the same task': replay.replayed && replay.task.id === roots[0],
      'event stream delivers task.completed': completedEvent.type === 'task.completed',
      'one request in flight per session, one per key': report.maxInFlightPerSession <= 1 && Object.keys(report.repeatedKeys).length === 0,
      'conversations well formed': Object.keys(report.conversationProblems).length === 0 && report.turnMismatches.length === 0,
      '/readyz answers 200': ready.status === 200,
      // Kept by the engine as tasks end, outside the sessions' slots.
      '/metrics answers 200 and counts every completed task': metrics.status === 200 && metricsCompleted === figures.actualCompletedTasks,
    };
    return { figures, checks };
  } finally {
    await stack.close();
  }
}
