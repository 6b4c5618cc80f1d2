import { conversationProblems, type Message } from '@baton/core';
import { barrier, startFakeProvider, type FakeProvider } from '@baton/testkit';
import { ChatClient } from './chat-client';
import { NaiveSession } from './naive-orchestrator';

/**
 * The "before" (the in-process design, docs/design.md): the naive in-process orchestrator against
 * the real HTTP fake provider. The fake holds the parent's requests made after
 * the child's completion until three of them are in flight at once, which
 * only happens because the naive code sends three (poll, fire-and-forget, user
 * message); nothing here waits on a timer.
 */
describe('naive in-process orchestrator (the before)', () => {
  let fake: FakeProvider;
  let client: ChatClient;

  afterEach(async () => {
    client?.close();
    await fake?.close();
  });

  it('the 3-request race: poll + fire-and-forget + user message after the green text hit the provider at once and corrupt the conversation', async () => {
    const parentTurnsAfterChild = barrier(3);
    fake = await startFakeProvider({
      onRequest: async (r) => {
        // The parent's requests after its first child: held until three are in flight together.
        if (r.key === 'naive-1-root:2') await parentTurnsAfterChild.arrive();
      },
    });
    client = new ChatClient(fake.url);
    const session = new NaiveSession('naive-1', client);
    session.on('green', () => session.sendUserMessage('also add a README')); // typed as soon as input is enabled
    const root = session.start('ship the feature in 1 step');
    await session.whenSettled();

    expect(fake.maxInFlightPerSession()).toBe(3);
    expect(fake.stats.requestsByKey['naive-1-root:2']).toBe(3); // one turn requested three times
    const problems = conversationProblems(root.messages as Message[]);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.join('\n')).toMatch(/consecutive assistant messages|before calls .* were answered|unanswered calls/);
    // Baton needs 3 requests here (root: spawn, complete after the child; child: complete) + 1 for the user message.
    expect(fake.stats.total).toBeGreaterThan(4);
    expect(root.completions).toBeGreaterThan(1); // the root "completed" more than once
  });

  it('"queue empty? then dequeue" is not atomic: one queued user message is sent twice', async () => {
    const bothCopies = barrier(2);
    fake = await startFakeProvider({
      onRequest: async (r) => {
        if (r.key === 'naive-2-root:2') await bothCopies.arrive(); // held until the second copy is in flight too
      },
    });
    client = new ChatClient(fake.url);
    const session = new NaiveSession('naive-2', client);
    const root = session.start('answer directly'); // no steps: completes on its first turn
    session.sendUserMessage('and one more thing'); // input disabled while the root runs: queued
    await new Promise<void>((resolve) => session.once('idle', () => resolve()));
    await session.whenSettled();

    const userTurns = root.messages.filter((m) => m.role === 'user' && m.content === 'and one more thing');
    expect(userTurns).toHaveLength(2);
    expect(fake.stats.requestsByKey['naive-2-root:2']).toBe(2);
    // Both copies went out concurrently, each with its own (interleaved) answer.
    expect(fake.maxInFlightPerSession()).toBe(2);
    expect(conversationProblems(root.messages as Message[]).length).toBeGreaterThan(0);
  });

  it('20 sessions of an orchestrator with 2 subtasks: duplicate concurrent requests in every session', async () => {
    fake = await startFakeProvider({ latencyMs: 100 }); // model time: far longer than the 5 ms poll, as with any real model
    client = new ChatClient(fake.url);
    const sessions = Array.from({ length: 20 }, (_, i) => new NaiveSession(`naive-many-${i}`, client));
    for (const s of sessions) s.start('refactor in 2 steps');
    await Promise.all(sessions.map((s) => s.whenSettled()));

    const needed = 20 * 5; // per session: root 3 turns + 2 children x 1 turn
    expect(fake.stats.total).toBeGreaterThan(needed);
    for (const s of sessions) {
      expect(fake.stats.maxInFlightBySession[s.sessionId]).toBeGreaterThan(1);
      expect(conversationProblems(s.root!.messages as Message[]).length).toBeGreaterThan(0);
    }
    const duplicatedKeys = Object.values(fake.stats.requestsByKey).filter((n) => n > 1).length;
    expect(duplicatedKeys).toBeGreaterThanOrEqual(20);
  });
});
