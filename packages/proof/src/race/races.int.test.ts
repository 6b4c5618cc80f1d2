import { BatonStack } from '../support/baton-stack';
import { Holds } from '../support/holds';
import { QueueProbe } from '../support/queue-probe';
import { flatten } from '../support/invariants';
import { taskEvent, waitForEvent, waitForStatus } from '../support/waits';
import { expectInvariants } from './expect-invariants';

/**
 * The 3-request race and its siblings (docs/design.md, "The problem"), replayed against Baton as deployed: the API and two
 * worker processes (`node apps/{api,worker}/dist/main.js`) on real Redis, the
 * real HTTP fake provider, driven over HTTP. Every scenario ends with
 * `expectInvariants`: at most one request in flight per session, one request
 * per Idempotency-Key, one committed response per turn, and a well-formed
 * conversation for every task of every tree. Instants are lined up with the
 * fake's holds and the session's event stream, never with timers.
 *
 * Prompts drive the fake's scripted orchestrator: "in N steps" spawns N
 * `code` subtasks one after the other (child ids `<root>.<turn>.0`), then
 * completes; a `code` task completes on its first turn.
 */
describe('the 3-request race, through Baton (api + 2 worker processes)', () => {
  let stack: BatonStack;

  afterEach(async () => {
    await stack?.close();
  });

  it('two-request race: a resume posted at the instant the child completes does not start a second parent request', async () => {
    // Naive: two continuations of the parent (fire-and-forget + the parked loop's poll).
    // Baton: one continuation (BullMQ moves the parent out of waiting-children); the other
    // trigger a client has is POST /sessions/{id}/resume (dispatch + promote parked jobs),
    // posted twice at the child's task.completed event while the parent's next request is held.
    stack = await BatonStack.start('race2');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-race2', { prompt: 'build it in 2 steps' });
    const parentTurn2 = holds.key(`${root.id}:2`);

    await waitForEvent(client, 's-race2', taskEvent(`${root.id}.1.0`, 'task.completed'));
    await Promise.all([client.resume('s-race2'), client.resume('s-race2')]);
    await parentTurn2.arrived;
    expect(stack.fake.stats.inFlightBySession['s-race2']).toBe(1);
    parentTurn2.release();

    const [done] = await waitForStatus(client, [root.id]);
    expect(done!.status).toBe('completed');
    await expectInvariants(stack, [root.id]);
    expect(stack.fake.stats.total).toBe(5); // root 3 turns + 2 children
  });

  it('three-request race: a user message and a resume posted at the instant the child completes; the message waits its turn', async () => {
    // A user message is a new root task in the same session (POST /sessions/{id}/tasks, enqueue);
    // the resume is POST /sessions/{id}/resume. Both posted at the child's task.completed event,
    // while the parent's continuation is held in flight at the fake.
    stack = await BatonStack.start('race3');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-race3', { prompt: 'build it in 2 steps' });
    const parentTurn2 = holds.key(`${root.id}:2`);

    await waitForEvent(client, 's-race3', taskEvent(`${root.id}.1.0`, 'task.completed'));
    const [{ task: message }] = await Promise.all([client.submit('s-race3', { prompt: 'also add a README', mode: 'code' }), client.resume('s-race3')]);
    await parentTurn2.arrived;
    expect(stack.fake.stats.inFlightBySession['s-race3']).toBe(1);
    expect(await client.getSession('s-race3')).toMatchObject({ activeTaskId: root.id, queuedTaskIds: [message.id] });
    expect(stack.fake.requests.some((r) => r.key?.startsWith(message.id))).toBe(false);
    parentTurn2.release();

    const [r, m] = await waitForStatus(client, [root.id, message.id]);
    expect([r!.status, m!.status]).toEqual(['completed', 'completed']);
    // The message ran after the whole tree: its only request came after the root's last one.
    const seqOf = (prefix: string) => stack.fake.requests.filter((q) => q.key?.startsWith(prefix)).map((q) => q.seq);
    expect(Math.min(...seqOf(`${message.id}:`))).toBeGreaterThan(Math.max(...seqOf(root.id)));
    await expectInvariants(stack, [root.id, message.id]);
  });

  it('three-request race on a paused session: paused while the child runs, resumed and messaged at the instant it completes', async () => {
    // The parent's continuation now races the park at its turn boundary (checkpoint) against the resume.
    stack = await BatonStack.start('race3p');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const { task: root } = await client.submit('s-race3p', { prompt: 'build it in 1 step' });
    const childTurn = holds.key(`${root.id}.1.0:1`);
    await childTurn.arrived;
    await client.pause('s-race3p');
    const completed = waitForEvent(client, 's-race3p', taskEvent(`${root.id}.1.0`, 'task.completed'));
    childTurn.release(); // the child's turn was already in flight: it completes, paused or not
    await completed;
    const [{ task: message }] = await Promise.all([client.submit('s-race3p', { prompt: 'also add a README', mode: 'code' }), client.resume('s-race3p')]);

    const [r, m] = await waitForStatus(client, [root.id, message.id]);
    expect([r!.status, m!.status]).toEqual(['completed', 'completed']);
    await expectInvariants(stack, [root.id, message.id]);
    expect(stack.fake.stats.total).toBe(4);
  });

  it('duplicate child completion delivery: the child job re-run while the parent continues, and again after the tree ended', async () => {
    // BullMQ delivers at least once. A duplicate delivery of the child's completion is its processor
    // running again for the same task: we add a second job with the child's data (another job id,
    // the original one is taken) (1) while the parent's next turn is held in flight, and (2) after
    // the whole tree ended. The task is terminal, so start-task refuses the runner; the parent must
    // not resume again, get a second tool result, or send a request.
    stack = await BatonStack.start('dupdone');
    const { client } = stack;
    const holds = new Holds(stack.fake);
    const probe = await QueueProbe.open(stack.redisUrl, stack.prefix);
    try {
      const { task: root } = await client.submit('s-dup', { prompt: 'build it in 2 steps' });
      const child = `${root.id}.1.0`;
      const parentTurn2 = holds.key(`${root.id}:2`);
      await parentTurn2.arrived;
      expect(await probe.redeliver(child, 's-dup', 'dup1')).toEqual({ skipped: 'completed' });
      parentTurn2.release();
      await waitForStatus(client, [root.id]);
      expect(await probe.redeliver(child, 's-dup', 'dup2')).toEqual({ skipped: 'completed' });
      expect(await probe.redeliver(root.id, 's-dup', 'dup3')).toEqual({ skipped: 'completed' });

      const tree = await client.getTree(root.id);
      expect(flatten(tree).map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
      const messages = await client.getMessages(root.id);
      expect(messages.filter((m) => m.role === 'tool')).toHaveLength(3); // 2 new_task results + attempt_completion
      expect(stack.fake.stats.total).toBe(5);
      await expectInvariants(stack, [root.id]);
    } finally {
      await probe.close();
    }
  });
});
