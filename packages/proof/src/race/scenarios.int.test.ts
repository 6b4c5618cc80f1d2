import type { FakeRequest } from '@baton/testkit';
import { BatonStack } from '../support/baton-stack';
import { Holds } from '../support/holds';
import { checkInvariants, flatten, runLimited } from '../support/invariants';
import { QueueProbe } from '../support/queue-probe';
import { taskEvent, waitForEvent, waitForStatus } from '../support/waits';
import { expectInvariants } from './expect-invariants';

/**
 * More race scenarios (docs/design.md, "The problem") through Baton as deployed (API + worker
 * processes, real Redis, the HTTP fake provider), each ending with
 * `expectInvariants` (one in flight per session, one request per key, one
 * committed response per turn, well-formed conversations). See
 * races.int.test.ts for the conventions.
 */
const aborted = (r: FakeRequest) => new Promise<void>((resolve) => (r.signal.aborted ? resolve() : r.signal.addEventListener('abort', () => resolve())));
const seqs = (stack: BatonStack, taskPrefix: string) => stack.fake.requests.filter((r) => r.key?.startsWith(taskPrefix)).map((r) => r.seq);

describe('race scenarios through Baton (api + worker processes)', () => {
  let stack: BatonStack;

  afterEach(async () => {
    await stack?.close();
  });

  it('all workers restarted gracefully (SIGTERM) between spawn and child completion: nothing is requested twice', async () => {
    // The child's only turn is held in flight; both workers get SIGTERM (they stop taking jobs and let
    // running ones end); two new workers start; then the held turn is answered. The old worker commits
    // the child; the parent continues on a new worker.
    stack = await BatonStack.start('restart-term');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-term', { prompt: 'build it in 1 step' });
    const childTurn = holds.key(`${root.id}.1.0:1`);
    await childTurn.arrived;
    const old = [...stack.workers];
    await Promise.all([stack.addWorker(), stack.addWorker()]);
    const stopped = old.map((w) => stack.removeWorker(w, 'SIGTERM'));
    await Promise.all(old.map((w) => w.waitFor((e) => String(e.msg).startsWith('shutting down'))));
    childTurn.release();
    await Promise.all(stopped);
    expect(old.map((w) => w.child.exitCode)).toEqual([0, 0]);

    const [done] = await waitForStatus(client, [root.id]);
    expect(done!.status).toBe('completed');
    const newPids = new Set(stack.workers.map((w) => w.pid));
    const last = stack.fake.requests.find((r) => r.key === `${root.id}:2`)!;
    expect(newPids.has(BatonStack.pidOfUserAgent(last.headers['user-agent'])!)).toBe(true);
    await expectInvariants(stack, [root.id]);
  });

  it('all workers killed (SIGKILL) between spawn and child completion: only the killed in-flight turn is sent again', async () => {
    // The documented at-least-once crash boundary (docs/design.md): a request in flight in a process that dies is
    // sent again, under the same key, by the worker that re-takes the job; nothing else is.
    stack = await BatonStack.start('restart-kill');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-kill', { prompt: 'build it in 1 step' });
    const childKey = `${root.id}.1.0:1`;
    const childTurn = holds.key(childKey);
    const held = await childTurn.arrived;
    await Promise.all([...stack.workers].map((w) => stack.removeWorker(w, 'SIGKILL')));
    await aborted(held); // the provider saw the dead client go away
    childTurn.release();
    await Promise.all([stack.addWorker(), stack.addWorker()]);

    const [done] = await waitForStatus(client, [root.id]);
    expect(done!.status).toBe('completed');
    expect(stack.fake.stats.requestsByKey[childKey]).toBe(2);
    await expectInvariants(stack, [root.id], { allowedRepeats: { [childKey]: 2 } });
  });

  it('a stalled worker (SIGSTOP past its job lock): the re-taking runner wins, the frozen one can commit nothing', async () => {
    // docs/design.md: "stalls re-run jobs concurrently". The worker running the child's turn is frozen
    // (SIGSTOP) with the request in flight; its job lock lapses, the other worker re-takes the job with a
    // new runner token and, the old lease's holder being fenced out, is granted the turn again. Then
    // the frozen worker resumes (SIGCONT) and gets its answer: every write it attempts is refused.
    // KNOWN LIMITATION (pinned here, see the proof report): the provider sees the frozen worker's
    // request still open while the new one runs, so this session has 2 in flight and the key is sent
    // twice; a process that is frozen (not dead) cannot abort its socket. What holds: one committed
    // response, a well-formed conversation, the tree completes once.
    stack = await BatonStack.start('stall');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-stall', { prompt: 'build it in 1 step' });
    const childKey = `${root.id}.1.0:1`;
    const childTurn = holds.key(childKey);
    const held = await childTurn.arrived;
    const frozen = BatonStack.pidOfUserAgent(held.headers['user-agent'])!;
    process.kill(frozen, 'SIGSTOP');
    try {
      const retaken = await stack.fake.nextRequest((r) => r.key === childKey && r.attempt === 1);
      expect(BatonStack.pidOfUserAgent(retaken.headers['user-agent'])).not.toBe(frozen);
    } finally {
      process.kill(frozen, 'SIGCONT');
    }
    childTurn.release();

    const [done] = await waitForStatus(client, [root.id]);
    expect(done!.status).toBe('completed');
    expect(stack.fake.stats.maxInFlightBySession['s-stall']).toBe(2); // the known limitation above
    const report = await checkInvariants(client, stack.fake, [root.id], { allowedRepeats: { [childKey]: 2 } });
    expect({ repeatedKeys: report.repeatedKeys, problems: report.conversationProblems, mismatches: report.turnMismatches }).toEqual({
      repeatedKeys: {},
      problems: {},
      mismatches: [],
    });
    expect(flatten(await client.getTree(root.id)).map((t) => t.status)).toEqual(['completed', 'completed']);
  });

  it('20 messages burst into one session: each counted once, run one tree at a time in lane order', async () => {
    // A user message is a root task POSTed to the session; 20 at once, each with its own Idempotency-Key,
    // then the same 20 again (a client retrying): the retries are replays, not new tasks.
    stack = await BatonStack.start('burst');
    const { client } = stack;
    const post = (i: number) => client.submit('s-burst', { prompt: `message ${i} in 1 step`, idempotencyKey: `burst-${i}` });
    const first = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i)));
    const again = await Promise.all(Array.from({ length: 20 }, (_, i) => post(i)));
    expect(first.every((r) => !r.replayed)).toBe(true);
    expect(again.map((r) => [r.replayed, r.task.id])).toEqual(first.map((r) => [true, r.task.id]));
    const ids = first.map((r) => r.task.id);
    expect(new Set(ids).size).toBe(20);

    const tasks = await waitForStatus(client, ids);
    expect(tasks.every((t) => t.status === 'completed')).toBe(true);
    // One tree at a time: the request ranges of the trees never overlap, and they ran in start order.
    const ranges = ids.map((id) => ({ id, from: Math.min(...seqs(stack, id)), to: Math.max(...seqs(stack, id)) })).sort((a, b) => a.from - b.from);
    for (let i = 1; i < ranges.length; i++) expect(ranges[i]!.from).toBeGreaterThan(ranges[i - 1]!.to);
    const byStart = [...tasks].sort((a, b) => Date.parse(a.startedAt!) - Date.parse(b.startedAt!)).map((t) => t.id);
    expect(ranges.map((r) => r.id)).toEqual(byStart);
    expect(stack.fake.stats.total).toBe(20 * 3);
    await expectInvariants(stack, ids);
  });

  it('10 concurrent resumes of a paused session: the parked parent continues once, the next root waits for the tree', async () => {
    stack = await BatonStack.start('resumes');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-res', { prompt: 'build it in 2 steps' });
    const childTurn = holds.key(`${root.id}.1.0:1`);
    await childTurn.arrived;
    await client.pause('s-res');
    const { task: next } = await client.submit('s-res', { prompt: 'then this', mode: 'code' });
    childTurn.release();
    await waitForStatus(client, [root.id], ['paused']); // parked at its turn boundary after the child
    expect(seqs(stack, `${root.id}:2`)).toEqual([]);

    const sessions = await Promise.all(Array.from({ length: 10 }, () => client.resume('s-res')));
    expect(sessions.every((s) => s.status !== 'paused')).toBe(true);
    const [r, n] = await waitForStatus(client, [root.id, next.id]);
    expect([r!.status, n!.status]).toEqual(['completed', 'completed']);
    expect(Math.min(...seqs(stack, next.id))).toBeGreaterThan(Math.max(...seqs(stack, root.id)));
    await expectInvariants(stack, [root.id, next.id]);
    expect(stack.fake.stats.total).toBe(6);
  });

  it('cancel a child mid-request: its request is aborted, the parent gets one "cancelled" tool result and goes on', async () => {
    stack = await BatonStack.start('cancel-child');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-cc', { prompt: 'build it in 2 steps' });
    const child = `${root.id}.1.0`;
    const childTurn = holds.key(`${child}:1`);
    const held = await childTurn.arrived;
    expect((await client.cancel(child)).status).toBe('cancelled');
    await aborted(held);
    childTurn.release();

    const [done] = await waitForStatus(client, [root.id]);
    expect(done!.status).toBe('completed');
    const tree = await client.getTree(root.id);
    expect(flatten(tree).map((t) => [t.id, t.status])).toEqual([
      [root.id, 'completed'],
      [child, 'cancelled'],
      [`${root.id}.2.0`, 'completed'],
    ]);
    const toolResults = (await client.getMessages(root.id)).filter((m) => m.role === 'tool').map((m) => m.content);
    expect(toolResults.filter((c) => /cancelled/.test(String(c)))).toHaveLength(1);
    await expectInvariants(stack, [root.id]);
  });

  it('cancel a parent while its child runs: the tree is cancelled, the child request aborted, the next root runs', async () => {
    stack = await BatonStack.start('cancel-parent');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-cp', { prompt: 'build it in 2 steps' });
    const { task: next } = await client.submit('s-cp', { prompt: 'next one', mode: 'code' });
    const child = `${root.id}.1.0`;
    const childTurn = holds.key(`${child}:1`);
    const held = await childTurn.arrived;
    expect((await client.cancel(root.id)).status).toBe('cancelled');
    await aborted(held);
    childTurn.release();

    const [n] = await waitForStatus(client, [next.id]);
    expect(n!.status).toBe('completed');
    const tree = await client.getTree(root.id);
    expect(flatten(tree).map((t) => t.status)).toEqual(['cancelled', 'cancelled']);
    expect(seqs(stack, `${root.id}:`)).toHaveLength(1); // no parent request after the cancel
    await expectInvariants(stack, [root.id, next.id]);
  });

  it('a stale completion after the parent ended does not touch the next tree holding the session', async () => {
    // Root A's tree ended; root B runs (its turn held in flight); root C waits in the lane. Then the
    // jobs of A and of A's child are delivered again (their processors re-run, as a late duplicate
    // delivery would). The session must stay B's: C is not dispatched, A is not changed.
    stack = await BatonStack.start('stale');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const probe = await QueueProbe.open(stack.redisUrl, stack.prefix);
    try {
      const { task: a } = await client.submit('s-stale', { prompt: 'first in 1 step' });
      const { task: b } = await client.submit('s-stale', { prompt: 'second', mode: 'code' });
      const { task: c } = await client.submit('s-stale', { prompt: 'third', mode: 'code' });
      const bTurn = holds.key(`${b.id}:1`);
      await bTurn.arrived;
      const aBefore = await client.getTree(a.id);
      expect(await probe.redeliver(`${a.id}.1.0`, 's-stale', 'late')).toEqual({ skipped: 'completed' });
      expect(await probe.redeliver(a.id, 's-stale', 'late')).toEqual({ skipped: 'completed' });
      expect(await client.getSession('s-stale')).toMatchObject({ activeTaskId: b.id, queuedTaskIds: [c.id] });
      expect(seqs(stack, c.id)).toEqual([]);
      expect(await client.getTree(a.id)).toEqual(aBefore);
      bTurn.release();

      const statuses = await waitForStatus(client, [a.id, b.id, c.id]);
      expect(statuses.map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
      await expectInvariants(stack, [a.id, b.id, c.id]);
    } finally {
      await probe.close();
    }
  });

  it('root -> A -> B nesting: each parent continues once, after its child, with a race posted at the deepest completion', async () => {
    stack = await BatonStack.start('nested');
    const { client } = stack;
    const { task: root } = await client.submit('s-nest', { prompt: 'outer steps=1 childMode=orchestrator :: inner steps=1' });
    const a = `${root.id}.1.0`;
    const b = `${a}.1.0`;
    await waitForEvent(client, 's-nest', taskEvent(b, 'task.completed'));
    const [{ task: message }] = await Promise.all([client.submit('s-nest', { prompt: 'and then', mode: 'code' }), client.resume('s-nest')]);

    const [r, m] = await waitForStatus(client, [root.id, message.id]);
    expect([r!.status, m!.status]).toEqual(['completed', 'completed']);
    const tree = await client.getTree(root.id);
    expect(flatten(tree).map((t) => [t.id, t.mode, t.status])).toEqual([
      [root.id, 'orchestrator', 'completed'],
      [a, 'orchestrator', 'completed'],
      [b, 'code', 'completed'],
    ]);
    // Invariant 6: a parent's next request only after its child's last one.
    const first = (key: string) => stack.fake.requests.find((q) => q.key === key)!.seq;
    expect(first(`${a}:2`)).toBeGreaterThan(first(`${b}:1`));
    expect(first(`${root.id}:2`)).toBeGreaterThan(first(`${a}:2`));
    await expectInvariants(stack, [root.id, message.id]);
  });

  it('100 sessions in parallel, each an orchestrator with 2 subtasks', async () => {
    stack = await BatonStack.start('hundred', { workerEnv: { WORKER_CONCURRENCY: '16' } });
    const { client } = stack;
    const roots: string[] = [];
    await runLimited(
      Array.from({ length: 100 }, (_, i) => i),
      20,
      async (i) => {
        roots.push((await client.submit(`s-par-${i}`, { prompt: `job ${i} in 2 steps`, idempotencyKey: `par-${i}` })).task.id);
      },
    );
    const done = await waitForStatus(client, roots, undefined, 110_000);
    expect(done.filter((t) => t.status !== 'completed')).toEqual([]);
    expect(stack.fake.stats.total).toBe(100 * 5);
    expect(Object.keys(stack.fake.stats.maxInFlightBySession)).toHaveLength(100);
    const report = await expectInvariants(stack, roots);
    expect(report.tasks).toHaveLength(300);
  });
});
