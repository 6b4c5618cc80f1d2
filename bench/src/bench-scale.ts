/**
 * 5. Scale: N sessions, each an orchestrator with 2 subtasks (the fake
 * provider's scripted orchestrator: 3 root turns + 1 turn per child = 5
 * requests, 3 tasks per session), submitted 64 at a time while an in-process
 * worker runs. Wall time, Redis memory per session and per finished task,
 * and the invariants checked at the end.
 */
import { conversationProblems, Engine, type TaskTree } from '@baton/core';
import { cleanupPrefix, testPrefix } from '@baton/testkit';
import { Redis } from 'ioredis';
import pino from 'pino';
import { startBatonWorker } from './baton-worker';
import type { RemoteFakeProvider } from './fake-provider-client';
import type { BenchOptions } from './options';
import { keyLayout } from './key-layout';
import { messageText } from './message-text';
import { usedMemory } from './redis-probe';
import { verdict, type BenchReport } from './report';
import { RootTracker } from './root-tracker';
import { fmt, nowMs, pool } from './stats';

const STEPS = 2;

function flatten(tree: TaskTree): TaskTree[] {
  return [tree, ...tree.children.flatMap(flatten)];
}

export async function benchScale(o: BenchOptions, fake: RemoteFakeProvider): Promise<BenchReport> {
  const prefix = testPrefix('bench-scale');
  const redis = new Redis(o.redisUrl);
  const engine = new Engine(o.redisUrl, { prefix }, pino({ level: 'silent' }));
  await fake.reset();
  const n = o.scaleSessions;
  const memBefore = await usedMemory(redis);
  const app = await startBatonWorker({ redisUrl: o.redisUrl, prefix, providerUrl: fake.url, concurrency: o.concurrency });
  const tracker = new RootTracker(app.taskWorker.worker);
  const roots: { sessionId: string; taskId: string }[] = [];
  let wallMs = 0;
  try {
    const t0 = nowMs();
    await pool(
      Array.from({ length: n }, (_, i) => i),
      64,
      async (i) => {
        const sessionId = `sc${i}`;
        const { task } = await engine.submit({ sessionId, prompt: `orchestrate steps=${STEPS}`, mode: 'orchestrator' });
        roots.push({ sessionId, taskId: task.id });
      },
    );
    const submitMs = nowMs() - t0;
    await Promise.all(roots.map((r) => tracker.done(r.taskId)));
    wallMs = nowMs() - t0;
    const memAfter = await usedMemory(redis);
    const text = await messageText(redis, prefix);

    // Invariants. Statuses of every task (roots and children), read in pipelines.
    let tasks = 0;
    let completed = 0;
    for (let i = 0; i < roots.length; i += 500) {
      const batch = roots.slice(i, i + 500);
      const p1 = redis.pipeline();
      for (const r of batch) {
        p1.hget(engine.keys.task(r.sessionId, r.taskId), 'status');
        p1.lrange(engine.keys.children(r.sessionId, r.taskId), 0, -1);
      }
      const replies = (await p1.exec())!;
      const p2 = redis.pipeline();
      batch.forEach((r, j) => {
        const status = replies[2 * j]![1] as string | null;
        tasks++;
        if (status === 'completed') completed++;
        for (const child of replies[2 * j + 1]![1] as string[]) p2.hget(engine.keys.task(r.sessionId, child), 'status');
      });
      for (const [, status] of (await p2.exec())!) {
        tasks++;
        if (status === 'completed') completed++;
      }
    }
    const stats = await fake.stats();
    const expectedRequests = n * (STEPS + 1 + STEPS);
    const check = o.scaleCheckConversations === 0 ? roots.length : Math.min(o.scaleCheckConversations, roots.length);
    const step = roots.length / check;
    let badConversations = 0;
    let checkedTasks = 0;
    for (let k = 0; k < check; k++) {
      const root = roots[Math.floor(k * step)]!;
      const tree = await engine.getTree(root.taskId);
      for (const node of tree ? flatten(tree) : []) {
        checkedTasks++;
        const messages = (await engine.getMessages(node.id)) ?? [];
        const expected = node.parentId ? 4 : 2 + 2 * (STEPS + 1); // child: system, user, assistant, tool; root: system, user, (assistant, tool) per turn
        if (conversationProblems(messages).length > 0 || messages.length !== expected) badConversations++;
      }
    }
    const memDelta = memAfter - memBefore;
    const layout = await keyLayout(redis, prefix, /sc\d+/g);
    const layoutTotal = layout.reduce((sum, c) => sum + c.bytes, 0);
    const finishedTasks = n * (STEPS + 1);
    const textBytes = text.conversations + text.responses;
    // The verdict uses MEMORY USAGE over the run's own keys: on a shared Redis, other clients move used_memory.
    const withoutText = layoutTotal - textBytes;
    const deltaWithoutText = memDelta - textBytes;
    const deltaDrift = Math.abs(memDelta - layoutTotal) / layoutTotal;
    // What a session keeps besides its tasks: its keys with no task in their name (session hash, lane, fence, roots, events, ...).
    const sessionOnly = layout.filter((c) => c.shape.includes('{s:<s>}') && !c.shape.includes(':task:')).reduce((sum, c) => sum + c.bytes, 0);
    const memoryOk = withoutText / finishedTasks <= 2048 && sessionOnly / n <= 256;
    const ok =
      completed === finishedTasks &&
      tasks === finishedTasks &&
      stats.maxInFlightPerSession === 1 &&
      stats.repeatedRequests === 0 &&
      stats.total === expectedRequests &&
      badConversations === 0;
    return {
      name: 'scale',
      title: '5. Scale',
      rows: [
        {
          bench: '5 scale',
          metric: `${n} sessions x orchestrator with ${STEPS} subtasks: wall time s (sessions/s; tasks/s)`,
          baton: `${fmt(wallMs / 1000, 1)} (${fmt((n / wallMs) * 1000, 0)}; ${fmt((finishedTasks / wallMs) * 1000, 0)})`,
          baseline: '',
          baselineName: '',
          target: '',
          verdict: '',
          note: `submit phase ${fmt(submitMs / 1000, 1)} s`,
        },
        {
          bench: '5 scale',
          metric: 'Redis used_memory delta: per session / per finished task',
          baton: `${fmt(memDelta / n / 1024, 2)} KiB / ${fmt(memDelta / finishedTasks / 1024, 2)} KiB`,
          baseline: '',
          baselineName: '',
          target: '',
          verdict: '',
          note: `total ${fmt(memDelta / 1024 ** 2, 1)} MiB${deltaDrift > 0.25 ? `; ${fmt(deltaDrift * 100, 0)}% off the MEMORY USAGE sum of the run's keys: other clients of this Redis moved used_memory meanwhile` : ''}`,
        },
        {
          bench: '5 scale',
          metric: 'Redis bytes without message text (MEMORY USAGE of every key of the run minus message text): per session / per finished task',
          baton: `${fmt(withoutText / n / 1024, 2)} KiB / ${fmt(withoutText / finishedTasks / 1024, 2)} KiB`,
          baseline: '',
          baselineName: '',
          target: '<= 2 KiB per finished task',
          verdict: verdict(withoutText / finishedTasks <= 2048),
          note: `message text ${fmt(textBytes / n, 0)} B per session (conversations ${fmt(text.conversations / n, 0)}, committed responses ${fmt(text.responses / n, 0)}); used_memory delta minus message text ${fmt(deltaWithoutText / n / 1024, 2)} KiB / ${fmt(deltaWithoutText / finishedTasks / 1024, 2)} KiB`,
        },
        {
          bench: '5 scale',
          metric: "a session's own keys (no task in the name: session hash, lane, fence, roots, events), MEMORY USAGE per session",
          baton: `${fmt(sessionOnly / n, 0)} B`,
          baseline: '',
          baselineName: '',
          target: '<= 256 B per idle session',
          verdict: verdict(sessionOnly / n <= 256),
          note: 'its trees finished, nothing expired yet; the events stream is most of it',
        },
        {
          bench: '5 scale',
          metric: 'invariants: completed tasks; max in flight/session; requests (expected); repeated per key; bad conversations (checked)',
          baton: `${completed}/${finishedTasks}; ${stats.maxInFlightPerSession}; ${stats.total} (${expectedRequests}); ${stats.repeatedRequests}; ${badConversations} (${checkedTasks} tasks)`,
          baseline: '',
          baselineName: '',
          target: 'all completed; 1; equal; 0; 0',
          verdict: verdict(ok),
        },
      ],
      notes: [
        `${n} sessions, each one root orchestrator (prompt \`orchestrate steps=${STEPS}\`) spawning ${STEPS} \`code\` subtasks one after the other: ${STEPS * 2 + 1} model requests and ${STEPS + 1} tasks per session. Submitted through engine.submit, 64 at a time, while one in-process worker (concurrency ${o.concurrency}) ran; fake provider in its own process answering at once.`,
        `Memory: INFO used_memory after all roots completed minus before the first submit (task hashes, conversations, committed gate responses, event streams, lanes/session hashes, indexes, and BullMQ's retained jobs: the last ${1000} completed kept). Nothing had expired yet (committed responses are kept ${7} days after their task ends).`,
        `Without message text: the MEMORY USAGE of every key of the run (the key layout's total below; used_memory deltas are also moved by other clients of a shared Redis, so they are shown but not judged) minus the bytes (UTF-8) of the values that are message text, read back after the run: every entry of every conversation list (one JSON message each; archived versions too) and every committed response (\`<turn>:response\` of the gate hashes), ${fmt(textBytes / n, 0)} B per session; what Redis spends around them (entry headers, key names) stays counted, and so does every other value (a task's prompt and result, the events' data). Per session: divided by the ${n} sessions (each with its ${STEPS + 1} finished tasks); per finished task: divided by the ${finishedTasks} tasks. The used_memory delta minus the same text gives ${fmt(deltaWithoutText / n, 0)} B per session. ${memoryOk ? 'Both memory targets met.' : `A memory target is missed: the heaviest key shapes below are what is left (the session's events stream; gate hashes, 6 fields a turn, and task hashes, which one value over hash-max-listpack-value (64 bytes: a response, a result, a prompt) turns from a listpack into a hash table), and RESULTS.md says what it would take.`}`,
        `Key layout (MEMORY USAGE summed by key shape, ids replaced: <s> session, <t> task; ${fmt(layoutTotal / n, 0)} B per session over all keys of the prefix), heaviest first, bytes per session: ${layout
          .slice(0, 16)
          .map((c) => `\`${c.shape}\` ${c.type} ${fmt(c.bytes / n, 0)} (${fmt(c.keys / n, 2)} keys)`)
          .join('; ')}.`,
        `Invariants: every task's status read back; the provider's per-session in-flight maximum and per-Idempotency-Key counts; conversations of ${check === roots.length ? 'every' : `${check} evenly spread`} session(s) checked with conversationProblems and their exact expected length.`,
      ],
    };
  } finally {
    await app.close();
    await engine.close();
    redis.disconnect();
    await cleanupPrefix(prefix, o.redisUrl);
  }
}
