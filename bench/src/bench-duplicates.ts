/**
 * 6. Duplicate suppression under one trigger storm. Per session: an
 * orchestrator with 2 subtasks, and at each child's completion the triggers
 * of the 3-request race fire at once.
 * - Naive (NaiveSession from @baton/proof, the "before"): the completion
 *   handler's fire-and-forget resume, the parked loop's poll, and a user
 *   message typed as soon as the green text shows.
 * - Baton: at the instant each child's terminal transition commits, a user
 *   message submitted twice with the same Idempotency-Key, a session resume,
 *   and the child's job re-delivered (queue.add with its job id).
 * Needed per session on both sides: 5 model requests for the tree + 1 per
 * user message (2). Same in-process fake provider with model latency.
 */
import { conversationProblems, Engine, isTerminal, type Message, type TaskStatus } from '@baton/core';
import { ChatClient, NaiveSession } from '@baton/proof';
import { cleanupPrefix, startFakeProvider, testPrefix, type FakeProvider } from '@baton/testkit';
import pino from 'pino';
import { parentOf, startBatonWorker } from './baton-worker';
import type { RemoteFakeProvider } from './fake-provider-client';
import type { BenchOptions } from './options';
import { verdict, type BenchReport } from './report';
import { RootTracker } from './root-tracker';

const LATENCY_MS = 50;
const STEPS = 2;
const NEEDED_PER_SESSION = STEPS * 2 + 1 + STEPS;

interface Outcome {
  total: number;
  needed: number;
  repeatedPerKey: number;
  maxInFlight: number;
  sessionsOverOne: number;
  corrupted: number;
}

function fromFake(fake: FakeProvider, sessions: string[], corrupted: number): Outcome {
  const counts = Object.values(fake.stats.requestsByKey);
  return {
    total: fake.stats.total,
    needed: sessions.length * NEEDED_PER_SESSION,
    repeatedPerKey: counts.reduce((a, c) => a + Math.max(0, c - 1), 0),
    maxInFlight: fake.maxInFlightPerSession(),
    sessionsOverOne: sessions.filter((s) => (fake.stats.maxInFlightBySession[s] ?? 0) > 1).length,
    corrupted,
  };
}

async function naiveSide(o: BenchOptions): Promise<Outcome> {
  const fake = await startFakeProvider({ latencyMs: LATENCY_MS });
  const client = new ChatClient(fake.url);
  try {
    const sessions = Array.from({ length: o.duplicateSessions }, (_, i) => new NaiveSession(`naive-${i}`, client));
    for (const s of sessions) {
      s.on('green', () => s.sendUserMessage('also add a README'));
      s.on('error', () => undefined);
      s.start(`refactor in ${STEPS} steps`);
    }
    await Promise.all(sessions.map((s) => s.whenSettled()));
    const corrupted = sessions.filter((s) => s.tasks.some((t: { messages: unknown[] }) => conversationProblems(t.messages as Message[]).length > 0)).length;
    return fromFake(
      fake,
      sessions.map((s) => s.sessionId),
      corrupted,
    );
  } finally {
    client.close();
    await fake.close();
  }
}

async function batonSide(o: BenchOptions): Promise<Outcome> {
  const fake = await startFakeProvider({ latencyMs: LATENCY_MS });
  const prefix = testPrefix('bench-dup');
  const engine = new Engine(o.redisUrl, { prefix }, pino({ level: 'silent' }));
  const storms: Promise<unknown>[] = [];
  const roots = new Set<string>();
  const app = await startBatonWorker({
    redisUrl: o.redisUrl,
    prefix,
    providerUrl: fake.url,
    concurrency: o.concurrency,
    onTransition(req) {
      if (!parentOf(req.taskId) || !isTerminal(req.to as TaskStatus)) return;
      const { sessionId, taskId } = req;
      const user = () =>
        engine.submit({ sessionId, prompt: 'also add a README', mode: 'code', idempotencyKey: `user-after-${taskId}` }).then(({ task }) => roots.add(task.id));
      storms.push(user(), user(), engine.resume(sessionId), engine.queue.add('task', { taskId, sessionId }, { jobId: taskId }));
    },
  });
  const tracker = new RootTracker(app.taskWorker.worker);
  try {
    const sessions = Array.from({ length: o.duplicateSessions }, (_, i) => `dup-${i}`);
    await Promise.all(
      sessions.map(async (sessionId) => {
        const { task } = await engine.submit({ sessionId, prompt: `refactor in ${STEPS} steps`, mode: 'orchestrator' });
        roots.add(task.id);
      }),
    );
    // Children end before their orchestrator, so once every orchestrator completed the storms were all fired.
    const orchestrators = [...roots];
    await Promise.all(orchestrators.map((id) => tracker.done(id)));
    await Promise.all(storms);
    await Promise.all([...roots].filter((id) => !orchestrators.includes(id)).map((id) => tracker.done(id)));
    let corrupted = 0;
    for (const id of roots) {
      const tree = await engine.getTree(id);
      const nodes = tree ? [tree, ...tree.children] : [];
      for (const node of nodes) if (conversationProblems((await engine.getMessages(node.id)) ?? []).length > 0) corrupted++;
    }
    return fromFake(fake, sessions, corrupted);
  } finally {
    await app.close();
    await engine.close();
    await fake.close();
    await cleanupPrefix(prefix, o.redisUrl);
  }
}

export async function benchDuplicates(o: BenchOptions, _fake: RemoteFakeProvider): Promise<BenchReport> {
  const naive = await naiveSide(o);
  const baton = await batonSide(o);
  const extra = (x: Outcome) => Math.max(0, x.total - x.needed);
  const name = 'naive in-process orchestrator (@baton/proof)';
  return {
    name: 'duplicates',
    title: '6. Duplicate suppression',
    rows: [
      {
        bench: '6 duplicates',
        metric: `requests sent beyond the needed (needed ${NEEDED_PER_SESSION}/session, ${o.duplicateSessions} sessions)`,
        baton: `${extra(baton)} (${baton.total} sent)`,
        baseline: `${extra(naive)} (${naive.total} sent)`,
        baselineName: name,
        target: 'Baton 0',
        verdict: verdict(extra(baton) === 0 && baton.repeatedPerKey === 0),
      },
      {
        bench: '6 duplicates',
        metric: 'requests repeating an Idempotency-Key',
        baton: String(baton.repeatedPerKey),
        baseline: String(naive.repeatedPerKey),
        baselineName: name,
        target: 'Baton 0',
        verdict: verdict(baton.repeatedPerKey === 0),
      },
      {
        bench: '6 duplicates',
        metric: 'max requests in flight in one session; sessions above 1',
        baton: `${baton.maxInFlight}; ${baton.sessionsOverOne}`,
        baseline: `${naive.maxInFlight}; ${naive.sessionsOverOne}`,
        baselineName: name,
        target: 'Baton 1; 0',
        verdict: verdict(baton.maxInFlight === 1 && baton.sessionsOverOne === 0),
      },
      {
        bench: '6 duplicates',
        metric: 'corrupted conversations (Baton: tasks; naive: sessions)',
        baton: String(baton.corrupted),
        baseline: String(naive.corrupted),
        baselineName: name,
        target: 'Baton 0',
        verdict: verdict(baton.corrupted === 0),
      },
    ],
    notes: [
      `${o.duplicateSessions} sessions per side, each \`refactor in ${STEPS} steps\` (orchestrator, ${STEPS} \`code\` subtasks), the testkit fake provider in this process answering after ${LATENCY_MS} ms (model time; the naive parent polls every 5 ms). The naive orchestrator is @baton/proof's NaiveSession (the in-process design of docs/design.md rebuilt: poll of isPaused, fire-and-forget continuation, user message after the green text, non-atomic queue drain).`,
      "Baton storm, at each child terminal: the same user message submitted twice with one Idempotency-Key (one task), engine.resume(session), and the child's job re-added under its job id (a duplicate completion delivery). The user messages run as roots in the session lane after the orchestrator, one request each.",
    ],
  };
}
