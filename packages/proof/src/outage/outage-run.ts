/**
 * Redis outages under load: Redis (AOF, appendfsync always) on its own port,
 * the API and two workers on it, a steady stream of submissions over HTTP
 * (no Idempotency-Key, each prompt unique). Twice during the stream:
 * - crash: Redis is killed (SIGKILL), stays down `outageMs`, and is
 *   restarted on the same port and directory;
 * - freeze: Redis is stopped (SIGSTOP) for `freezeMs`, longer than the API's
 *   command timeout, then continued (SIGCONT): it answers nothing meanwhile,
 *   then runs what it had received.
 * Every answer is judged: 201, or 503 problem+json with Retry-After, within
 * the command timeout plus a margin (never a 500, never a hang). Every 201
 * task completes. A 503 whose outcome is `not_applied` never shows up in
 * Redis; one whose outcome is `unknown` (sent, answer lost) names its task
 * id, and if that task exists it completes like any other; it exists only
 * if its script ran before the submission's deadline (the frozen server runs
 * what it received when it continues, and the submit script refuses a
 * submission it reaches after its deadline).
 */
import { submitDeadlineMs } from '@baton/core';
import { BatonStack, API_KEY } from '../support/baton-stack';
import { RedisServer } from '@baton/testkit';
import { waitForStatus } from '../support/waits';
import { storedTasks } from './stored-tasks';
import { isProperRefusal, SubmitLoad, type SubmitRecord } from './submit-load';

export interface OutageOptions {
  /** How long Redis stays down after the kill. */
  outageMs: number;
  /** How long Redis stays frozen (SIGSTOP); more than `commandTimeoutMs` so that commands time out. */
  freezeMs: number;
  /** The API's REDIS_COMMAND_TIMEOUT_MS. */
  commandTimeoutMs: number;
  /** Allowed on top of the command timeout for any answer (scheduling on a busy machine). */
  marginMs?: number;
  clients?: number;
  gapMs?: number;
  log?: (line: string) => void;
}

export interface OutageResult {
  figures: Record<string, unknown>;
  checks: Record<string, boolean>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function readyStatus(apiUrl: string): Promise<number> {
  const res = await fetch(`${apiUrl}/readyz`, { signal: AbortSignal.timeout(10_000) });
  await res.arrayBuffer();
  return res.status;
}

export async function runOutage(options: OutageOptions): Promise<OutageResult> {
  const log = options.log ?? (() => undefined);
  const margin = options.marginMs ?? 1500;
  const redis = await RedisServer.start('outage', ['--appendonly', 'yes', '--appendfsync', 'always']);
  let stack: BatonStack | undefined;
  let load: SubmitLoad | undefined;
  try {
    const started = Date.now();
    stack = await BatonStack.start('outage', {
      redisUrl: redis.url,
      prefix: 'outage',
      workers: 2,
      fake: { latencyMs: 20 },
      apiEnv: { REDIS_COMMAND_TIMEOUT_MS: String(options.commandTimeoutMs) },
    });
    const apiUrl = stack.api.url;
    load = new SubmitLoad({
      apiUrl,
      apiKey: API_KEY,
      clients: options.clients ?? 4,
      gapMs: options.gapMs ?? 50,
      deadlineMs: options.commandTimeoutMs + 10_000,
      prefix: 'outage',
    }).start();

    // Crash: kill -9, down for outageMs, restart on the same port and AOF.
    await load.acceptedMore(10);
    const beforeCrash = load.records.length;
    await redis.crash();
    log(`redis killed (-9) after ${load.accepted} accepted submissions`);
    await sleep(options.outageMs / 2); // scenario time: requests keep coming while Redis is away
    const readyDuringOutage = await readyStatus(apiUrl);
    await sleep(options.outageMs / 2);
    await redis.start();
    log('redis restarted (AOF)');
    await load.acceptedMore(10);
    const duringCrash = load.records.slice(beforeCrash);

    // Freeze: SIGSTOP for longer than the command timeout, then SIGCONT.
    const beforeFreeze = load.records.length;
    process.kill(redis.pid!, 'SIGSTOP');
    log('redis frozen (SIGSTOP)');
    await sleep(options.freezeMs / 2);
    const readyDuringFreeze = await readyStatus(apiUrl);
    await sleep(options.freezeMs / 2);
    process.kill(redis.pid!, 'SIGCONT');
    log('redis continued (SIGCONT)');
    await load.acceptedMore(10);
    await load.stop();
    const duringFreeze = load.records.slice(beforeFreeze);
    const readyAfter = await readyStatus(apiUrl);

    const records = load.records;
    const accepted = records.filter((r) => r.status === 201);
    const refused = records.filter((r) => r.status === 503);
    const notApplied = refused.filter((r) => r.outcome === 'not_applied');
    const unknown = refused.filter((r) => r.outcome === 'unknown');
    const improper = records.filter((r) => r.status !== 201 && !isProperRefusal(r));

    const tasks = await waitForStatus(
      stack.client,
      accepted.map((r) => r.taskId!),
      undefined,
      120_000,
    );
    const stored = await storedTasks(redis.url, 'outage');
    const byPrompt = new Map(stored.map((t) => [t.prompt, t]));
    const refusedButStored = notApplied.filter((r) => byPrompt.has(r.prompt));
    const unknownStored = unknown.filter((r) => byPrompt.has(r.prompt));
    const unknownNamed = unknown.filter((r) => r.taskId !== null && (!byPrompt.has(r.prompt) || byPrompt.get(r.prompt)!.id === r.taskId));
    // The frozen server runs what it received when it continues: a submission the API gave up on
    // (503, unknown) may exist only if its script ran before its deadline (sent + submitDeadlineMs);
    // the script refuses one it reaches later. Same clock here (one machine), so this is exact.
    const deadlineMs = submitDeadlineMs(options.commandTimeoutMs);
    const appliedLate = unknownStored.filter((r) => byPrompt.get(r.prompt)!.createdAt > r.sentAt + deadlineMs);
    const unknownTasks = await waitForStatus(
      stack.client,
      unknownStored.map((r) => r.taskId!),
      undefined,
      120_000,
    );
    const slowest = Math.max(...records.map((r) => r.ms));
    const count = (rs: SubmitRecord[], f: (r: SubmitRecord) => boolean) => rs.filter(f).length;

    const figures = {
      commandTimeoutMs: options.commandTimeoutMs,
      outageMs: options.outageMs,
      freezeMs: options.freezeMs,
      requests: records.length,
      accepted201: accepted.length,
      refused503: refused.length,
      refusedNotApplied: notApplied.length,
      refusedOutcomeUnknown: unknown.length,
      refusedOutcomeUnknownThatExist: unknownStored.length,
      refusedOutcomeUnknownAppliedAfterDeadline: appliedLate.length,
      otherAnswers: improper.length,
      duringCrash: {
        requests: duringCrash.length,
        accepted: count(duringCrash, (r) => r.status === 201),
        refused: count(duringCrash, (r) => r.status === 503),
      },
      duringFreeze: {
        requests: duringFreeze.length,
        accepted: count(duringFreeze, (r) => r.status === 201),
        refused: count(duringFreeze, (r) => r.status === 503),
      },
      slowestAnswerMs: slowest,
      slowestRefusalMs: Math.max(0, ...refused.map((r) => r.ms)),
      readyz: { duringOutage: readyDuringOutage, duringFreeze: readyDuringFreeze, after: readyAfter },
      wallSeconds: Math.round((Date.now() - started) / 100) / 10,
    };
    if (improper.length) log(`improper answers: ${JSON.stringify(improper.slice(0, 5))}`);
    const checks = {
      'every answer is 201 or 503 problem+json with Retry-After (no 500, no hang)': improper.length === 0,
      [`every answer within the command timeout + ${margin} ms`]: slowest <= options.commandTimeoutMs + margin,
      'Redis refused some submissions while down and while frozen': figures.duringCrash.refused > 0 && figures.duringFreeze.refused > 0,
      '/readyz 503 while Redis is down or frozen, 200 after': readyDuringOutage === 503 && readyDuringFreeze === 503 && readyAfter === 200,
      'every accepted (201) task completed': tasks.every((t) => t.status === 'completed'),
      'no refused (503 not_applied) submission ever appears in Redis': refusedButStored.length === 0,
      'no submission was applied after its deadline (the frozen Redis refused those it reached late)': appliedLate.length === 0,
      'every 503 of unknown outcome names its task; those that exist completed':
        unknownNamed.length === unknown.length && unknownTasks.every((t) => t.status === 'completed'),
    };
    return { figures, checks };
  } finally {
    await load?.stop();
    await stack?.close();
    if (redis.pid) {
      try {
        process.kill(redis.pid, 'SIGCONT');
      } catch {
        // already gone
      }
    }
    await redis.destroy();
  }
}
