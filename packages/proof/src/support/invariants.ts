/**
 * The checks every proof scenario ends with, read black-box: the fake
 * provider's counters and the API's trees and conversations.
 * - invariant 1: at most one model request in flight per session;
 * - invariant 3: one request per Idempotency-Key (minus the documented
 *   crash boundary, passed in as `allowedRepeats`), and one committed
 *   response per key: a completed task has as many assistant messages as keys
 *   were requested for it, and `turns` says the same;
 * - invariant 8 (and 4): every conversation of every task is well formed.
 *   One exception, by design: a task cancelled while it waited for a child
 *   ends with that `new_task` call unanswered (it never resumes, so nobody
 *   writes the result); "end: unanswered calls" is accepted for cancelled
 *   tasks only.
 */
import type { BatonClient, Message, TaskTree } from '@baton/client';
import { conversationProblems, type Message as CoreMessage } from '@baton/core';
import type { FakeProvider } from '@baton/testkit';

export function flatten(tree: TaskTree): TaskTree[] {
  return [tree, ...tree.children.flatMap(flatten)];
}

export interface InvariantReport {
  maxInFlightPerSession: number;
  /** Keys requested more than once, with their count (allowed ones excluded). */
  repeatedKeys: Record<string, number>;
  /** Problems per task id (only tasks with problems). */
  conversationProblems: Record<string, string[]>;
  /** Completed tasks whose assistant messages or `turns` differ from the keys requested for them. */
  turnMismatches: string[];
  tasks: TaskTree[];
}

export interface InvariantOptions {
  /** Keys allowed to be requested more than once, with their maximum count (crash boundary). */
  allowedRepeats?: Record<string, number>;
  /** Only look at these sessions' requests (default: every request the fake saw). */
  sessions?: string[];
}

export async function checkInvariants(client: BatonClient, fake: FakeProvider, rootIds: string[], options: InvariantOptions = {}): Promise<InvariantReport> {
  const sessions = options.sessions ? new Set(options.sessions) : null;
  const inScope = (sessionId: string) => !sessions || sessions.has(sessionId);
  const maxInFlight = Math.max(
    0,
    ...Object.entries(fake.stats.maxInFlightBySession)
      .filter(([s]) => inScope(s))
      .map(([, n]) => n),
  );
  const keysByTask = new Map<string, Set<string>>();
  const countByKey = new Map<string, number>();
  for (const r of fake.requests) {
    if (!r.key || !inScope(r.sessionId)) continue;
    countByKey.set(r.key, (countByKey.get(r.key) ?? 0) + 1);
    const taskId = r.key.slice(0, r.key.lastIndexOf(':'));
    if (!keysByTask.has(taskId)) keysByTask.set(taskId, new Set());
    keysByTask.get(taskId)!.add(r.key);
  }
  const repeatedKeys: Record<string, number> = {};
  for (const [key, n] of countByKey) if (n > 1 && n > (options.allowedRepeats?.[key] ?? 1)) repeatedKeys[key] = n;

  const tasks: TaskTree[] = [];
  const problems: Record<string, string[]> = {};
  const turnMismatches: string[] = [];
  await runLimited(rootIds, 16, async (rootId) => {
    const all = flatten(await client.getTree(rootId));
    tasks.push(...all);
    for (const task of all) {
      const messages: Message[] = await client.getMessages(task.id);
      const found = conversationProblems(messages as CoreMessage[]).filter((p) => !(task.status === 'cancelled' && p.startsWith('end: unanswered calls')));
      if (found.length) problems[task.id] = found;
      if (task.status === 'completed') {
        const assistants = messages.filter((m) => m.role === 'assistant').length;
        const keys = keysByTask.get(task.id)?.size ?? 0;
        if (assistants !== keys || task.turns !== keys)
          turnMismatches.push(`${task.id}: ${assistants} assistant messages, turns=${task.turns}, ${keys} keys requested`);
      }
    }
  });
  return { maxInFlightPerSession: maxInFlight, repeatedKeys, conversationProblems: problems, turnMismatches, tasks };
}

/** Runs `fn` over `items` with at most `limit` at once. */
export async function runLimited<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}
