/**
 * Chaos run : N sessions, each an
 * orchestrator with K subtasks, through W worker processes; every ~2 s a
 * random worker gets SIGKILL and a new one is started; the provider answers
 * with random latency and a share of 429/500 errors. Pass criteria:
 * - every task of every tree ends completed;
 * - zero overlap per session (the provider never had two requests of one
 *   session in flight);
 * - requests beyond one per key, not counting attempts the provider answered
 *   with an error (those are retries the provider asked for), are no more
 *   than the in-flight requests that kills cut (the documented at-least-once crash boundary, docs/design.md; a kill of a
 *   worker running 8 jobs can cut up to 8 requests, so the bound counts the
 *   requests cut, not the kills; both are printed);
 * - every conversation well formed, one committed response per turn.
 *
 *   node packages/proof/dist/chaos/run.js [--sessions 200] [--subtasks 3] [--workers 3]
 *     [--kill-every-ms 2000] [--error-rate 0.1] [--min-latency-ms 20] [--max-latency-ms 400]
 *     [--concurrency 8] [--timeout-ms 900000] [--seed 1]
 * (or CHAOS_SESSIONS, CHAOS_SUBTASKS, CHAOS_WORKERS, CHAOS_KILL_EVERY_MS, ...). Exit 0 on pass.
 * Needs `pnpm build` and a Redis at REDIS_URL (its own key prefix, removed at the end).
 */
import { isFinal } from '@baton/client';
import { BatonStack } from '../support/baton-stack';
import { numberOption } from '../support/cli-options';
import { checkInvariants, runLimited } from '../support/invariants';
import { ChaosProvider } from './chaos-provider';

/** Small deterministic PRNG (mulberry32), so a run's kill choices and errors can be replayed by seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = {
    sessions: numberOption(argv, 'sessions', 'CHAOS_SESSIONS', 200),
    subtasks: numberOption(argv, 'subtasks', 'CHAOS_SUBTASKS', 3),
    workers: numberOption(argv, 'workers', 'CHAOS_WORKERS', 3),
    killEveryMs: numberOption(argv, 'kill-every-ms', 'CHAOS_KILL_EVERY_MS', 2000),
    errorRate: numberOption(argv, 'error-rate', 'CHAOS_ERROR_RATE', 0.1),
    minLatencyMs: numberOption(argv, 'min-latency-ms', 'CHAOS_MIN_LATENCY_MS', 20),
    maxLatencyMs: numberOption(argv, 'max-latency-ms', 'CHAOS_MAX_LATENCY_MS', 400),
    concurrency: numberOption(argv, 'concurrency', 'CHAOS_CONCURRENCY', 8),
    timeoutMs: numberOption(argv, 'timeout-ms', 'CHAOS_TIMEOUT_MS', 15 * 60_000),
    seed: numberOption(argv, 'seed', 'CHAOS_SEED', Date.now() % 100_000),
  };
  const random = prng(opt.seed);
  const chaos = new ChaosProvider({ errorRate: opt.errorRate, minLatencyMs: opt.minLatencyMs, maxLatencyMs: opt.maxLatencyMs, random });
  log(`chaos: ${JSON.stringify(opt)}`);

  const started = Date.now();
  const stack = await BatonStack.start('chaos', {
    workers: opt.workers,
    keepLogs: false,
    fake: { policy: chaos.policy },
    workerEnv: { WORKER_CONCURRENCY: String(opt.concurrency), LLM_MAX_ATTEMPTS: '50', LOG_LEVEL: 'info' },
  });
  let kills = 0;
  let killsHitInFlight = 0;
  let requestsCutByKills = 0;
  const killedPids = new Set<number>();
  let killing = true;
  try {
    const { client } = stack;
    const roots: string[] = [];
    await runLimited(
      Array.from({ length: opt.sessions }, (_, i) => i),
      20,
      async (i) => {
        const { task } = await client.submit(`chaos-${i}`, { prompt: `chaos ${i} in ${opt.subtasks} steps`, idempotencyKey: `chaos-${i}` });
        roots.push(task.id);
      },
    );
    log(`submitted ${roots.length} roots in ${Date.now() - started} ms`);

    // The killer: every ~killEveryMs, SIGKILL a random worker and start a new one in its place.
    const killer = (async () => {
      while (killing) {
        await new Promise((r) => setTimeout(r, opt.killEveryMs * (0.5 + random())));
        if (!killing) break;
        const victim = stack.workers[Math.floor(random() * stack.workers.length)]!;
        const hit = chaos.inFlightFrom(victim.pid);
        kills++;
        if (hit > 0) killsHitInFlight++;
        requestsCutByKills += hit;
        killedPids.add(victim.pid);
        await stack.removeWorker(victim, 'SIGKILL');
        await stack.addWorker();
      }
    })();

    // Progress and the end: every root in a final state.
    let last = '';
    for (;;) {
      const tasks = await Promise.all(roots.map((id) => client.getTask(id)));
      const open = tasks.filter((t) => !isFinal(t.status)).length;
      const line = `${Math.round((Date.now() - started) / 1000)}s: ${roots.length - open}/${roots.length} roots final, ${stack.fake.stats.total} requests, ${kills} kills`;
      if (line !== last) log(line);
      last = line;
      if (open === 0) break;
      if (Date.now() - started > opt.timeoutMs) throw new Error(`timeout: ${open} roots still open`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    killing = false;
    await killer;
    const wallMs = Date.now() - started;

    const report = await checkInvariants(client, stack.fake, roots);
    const notCompleted = report.tasks.filter((t) => t.status !== 'completed');
    const nonError = new Map<string, number>();
    // Per key, the non-error requests in the order the provider received them: every one but the
    // last must come from a worker that was then SIGKILLed (it died before committing the answer:
    // in flight at the kill, or answered but not yet recorded). Anything else is an unexplained repeat.
    const byKey = new Map<string, (number | null)[]>();
    const errorAnswers: Record<string, number> = {};
    for (const r of stack.fake.requests) {
      const outcome = chaos.outcome.get(r);
      if (typeof outcome === 'number' && outcome !== 200) {
        errorAnswers[outcome] = (errorAnswers[outcome] ?? 0) + 1;
        continue;
      }
      nonError.set(r.key!, (nonError.get(r.key!) ?? 0) + 1);
      byKey.set(r.key!, [...(byKey.get(r.key!) ?? []), BatonStack.pidOfUserAgent(r.headers['user-agent'])]);
    }
    let unexplainedRepeats = 0;
    for (const pids of byKey.values()) {
      for (const pid of pids.slice(0, -1)) if (pid === null || !killedPids.has(pid)) unexplainedRepeats++;
    }
    const duplicates = [...nonError.values()].reduce((sum, n) => sum + Math.max(0, n - 1), 0);
    const figures = {
      sessions: opt.sessions,
      tasks: report.tasks.length,
      expectedTasks: opt.sessions * (opt.subtasks + 1),
      completed: report.tasks.length - notCompleted.length,
      wallSeconds: Math.round(wallMs / 100) / 10,
      requests: stack.fake.stats.total,
      keys: nonError.size,
      errorAnswers,
      abortedRequests: [...chaos.outcome.values()].filter((o) => o === 'aborted').length,
      kills,
      killsHitInFlight,
      requestsCutByKills,
      requestsBeyondOnePerKey: duplicates,
      unexplainedRepeats,
      maxInFlightPerSession: report.maxInFlightPerSession,
      malformedConversations: Object.keys(report.conversationProblems).length,
      turnMismatches: report.turnMismatches.length,
    };
    const checks = {
      'every task completed': notCompleted.length === 0 && report.tasks.length === figures.expectedTasks,
      'zero overlap per session': report.maxInFlightPerSession <= 1,
      // One provider request per key, except after a crash; counted per repeat: each extra request of a key follows one sent by a worker
      // that was killed before it recorded the answer. (The count of requests in flight at the kill,
      // requestsCutByKills, misses answers received but not yet committed when the kill hit.)
      "every request beyond one per key follows a killed worker's request of that key": unexplainedRepeats === 0,
      'every conversation well formed': figures.malformedConversations === 0 && figures.turnMismatches === 0,
    };
    log(`\nfigures: ${JSON.stringify(figures, null, 2)}`);
    for (const [name, ok] of Object.entries(checks)) log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
    if (notCompleted.length)
      log(
        `not completed: ${notCompleted
          .slice(0, 10)
          .map((t) => `${t.id} ${t.status} ${JSON.stringify(t.error)}`)
          .join('\n')}`,
      );
    if (figures.malformedConversations) log(`problems: ${JSON.stringify(Object.entries(report.conversationProblems).slice(0, 5))}`);
    if (report.turnMismatches.length) log(`turn mismatches: ${report.turnMismatches.slice(0, 5).join('\n')}`);
    return Object.values(checks).every(Boolean) ? 0 : 1;
  } finally {
    killing = false;
    await stack.close();
  }
}

function log(line: string): void {
  process.stdout.write(`${line}\n`);
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`chaos run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(2);
    },
  );
}
