import { hostname } from 'node:os';
import { spawnSync } from 'node:child_process';
import { Engine, isTerminal, type BatonEvent } from '@baton/core';
import { resolve } from 'node:path';
import {
  barrier,
  BatonProcess,
  cleanupPrefix,
  deferred,
  ensureBuilt,
  REDIS_URL,
  startFakeProvider,
  startProcess,
  testPrefix,
  waitUntil,
  WORKER_MAIN,
  type FakeProvider,
} from '@baton/testkit';
import { flatten, treeProblems } from './test-utils/harness';

/**
 * Worker processes (`node apps/worker/dist/main.js`) against the fake
 * provider and real Redis: configuration errors, load sharing between
 * processes, and a SIGKILL in the middle of a model request.
 */
describe('worker process', () => {
  const procs: BatonProcess[] = [];
  const prefixes: string[] = [];
  let fake: FakeProvider;
  let engine: Engine | undefined;

  beforeAll(() => ensureBuilt(WORKER_MAIN, resolve(__dirname, '..')));
  afterEach(async () => {
    await Promise.all(procs.splice(0).map((p) => p.kill('SIGKILL')));
    await engine?.close();
    engine = undefined;
    await fake?.close();
    await Promise.all(prefixes.splice(0).map((p) => cleanupPrefix(p)));
  });

  function setup(name: string): { prefix: string; engine: Engine } {
    const prefix = testPrefix(name);
    prefixes.push(prefix);
    engine = new Engine(REDIS_URL, { prefix });
    return { prefix, engine };
  }

  async function spawnWorker(env: Record<string, string>): Promise<BatonProcess> {
    const p = await startProcess('worker', WORKER_MAIN, { env, ready: (entry) => entry.msg === 'worker ready' });
    procs.push(p);
    return p;
  }

  async function terminal(e: Engine, taskIds: string[]): Promise<void> {
    // Black-box processes: re-check the tasks' durable state.
    await waitUntil(async () => {
      for (const id of taskIds) {
        const t = await e.getTask(id);
        if (!t || !isTerminal(t.status)) return false;
      }
      return true;
    }, 30_000);
  }

  it('refuses a bad configuration with every problem listed and exit code 1', () => {
    const r = spawnSync(process.execPath, [WORKER_MAIN], {
      env: { PATH: process.env.PATH ?? '', WORKER_CONCURRENCY: '0', LLM_BASE_URL: 'ftp://x', LLM_MAX_ATTEMPTS: 'many' },
      encoding: 'utf8',
    });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid worker configuration');
    for (const name of ['WORKER_CONCURRENCY', 'LLM_BASE_URL', 'LLM_MAX_ATTEMPTS']) expect(r.stderr).toContain(`→ at ${name}\n`);
  });

  it('two worker processes share the load; per session one request in flight, every key requested once', async () => {
    const { prefix, engine: e } = setup('twoproc');
    // Each process runs one job at a time and the fake holds the first two requests until both
    // are in flight: so both processes must be running a turn at once.
    const bothHeld = barrier(2);
    let held = 0;
    fake = await startFakeProvider({
      apiKey: 'sk-proc',
      onRequest: async () => {
        if (held < 2) {
          held++;
          await bothHeld.arrive();
        }
      },
    });
    const env = { BATON_PREFIX: prefix, LLM_BASE_URL: fake.url, LLM_API_KEY: 'sk-proc', WORKER_CONCURRENCY: '1', RECONCILE_INTERVAL_MS: '1000' };
    const [a, b] = [await spawnWorker(env), await spawnWorker(env)];
    const roots = Array.from({ length: 6 }, (_, i) => `two-${i}`);
    for (const id of roots) await e.submit({ sessionId: `s-${id}`, taskId: id, prompt: `work in 2 steps (${id})` });
    await terminal(e, roots);

    const pidOf = (ua: unknown) => /pid (\d+)/.exec(String(ua))?.[1];
    const firstTwo = fake.requests.slice(0, 2).map((r) => pidOf(r.headers['user-agent']));
    // The provider learns which worker process asked, not the host's name.
    for (const r of fake.requests) expect(String(r.headers['user-agent'])).not.toContain(hostname());
    expect(new Set(firstTwo)).toEqual(new Set([String(a.pid), String(b.pid)]));
    for (const id of roots) {
      const tree = (await e.getTree(id))!;
      expect(flatten(tree).map((t) => t.status)).toEqual(['completed', 'completed', 'completed']);
      expect(Object.values(await treeProblems(e, id)).flat()).toEqual([]);
    }
    expect(fake.stats.total).toBe(6 * 5); // root: 3 turns, each child: 1 turn
    expect(Object.values(fake.stats.requestsByKey).every((n) => n === 1)).toBe(true);
    expect(fake.maxInFlightPerSession()).toBe(1);
    // Every log line of a model turn names the task, the session and the turn.
    const turnLines = [...a.logs, ...b.logs].filter((l) => l.msg === 'model turn');
    expect(turnLines).toHaveLength(30);
    expect(turnLines.every((l) => typeof l.taskId === 'string' && typeof l.sessionId === 'string' && typeof l.turn === 'number')).toBe(true);

    // Graceful stop: both exit 0 on SIGTERM.
    expect(await Promise.all([a.kill('SIGTERM'), b.kill('SIGTERM')])).toEqual([
      { code: 0, signal: null },
      { code: 0, signal: null },
    ]);
  });

  it('SIGKILL during a model request: another process finishes with one committed response per turn', async () => {
    const { prefix, engine: e } = setup('sigkill');
    const root = 'kill-root';
    const target = `${root}:2`; // the root's turn after its first subtask returned
    const release = deferred();
    fake = await startFakeProvider({
      onRequest: async (r) => {
        if (r.key === target && r.attempt === 0) await release.promise;
      },
    });
    const env = {
      BATON_PREFIX: prefix,
      LLM_BASE_URL: fake.url,
      WORKER_CONCURRENCY: '2',
      WORKER_LOCK_DURATION_MS: '1000',
      WORKER_STALLED_INTERVAL_MS: '1000',
      RECONCILE_INTERVAL_MS: '1000',
    };
    const first = await spawnWorker(env);
    await e.submit({ sessionId: 's-kill', taskId: root, prompt: 'migrate the db in 2 steps' });
    const inFlight = await fake.nextRequest((r) => r.key === target);
    expect(await first.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    await new Promise((resolve) => (inFlight.signal.aborted ? resolve(undefined) : inFlight.signal.addEventListener('abort', resolve)));
    release.resolve();

    const second = await spawnWorker(env);
    await terminal(e, [root]);
    const tree = (await e.getTree(root))!;
    expect(flatten(tree).map((t) => [t.id, t.status])).toEqual([
      [root, 'completed'],
      [`${root}.1.0`, 'completed'],
      [`${root}.2.0`, 'completed'],
    ]);

    // The killed request was sent again under the same key (the documented crash boundary);
    // every other turn was requested exactly once.
    expect(fake.stats.requestsByKey[target]).toBe(2);
    expect(
      Object.entries(fake.stats.requestsByKey)
        .filter(([k]) => k !== target)
        .every(([, n]) => n === 1),
    ).toBe(true);
    expect(fake.maxInFlightPerSession()).toBe(1);
    const retried = fake.requests.filter((r) => r.key === target);
    expect(retried.map((r) => /pid (\d+)/.exec(String(r.headers['user-agent']))?.[1])).toEqual([String(first.pid), String(second.pid)]);

    // One committed response per turn: one turn.completed per (task, turn), and as many
    // assistant messages as turns; every tool call answered exactly once.
    const events: BatonEvent[] = await e.readEvents('s-kill');
    const completed = events.filter((ev) => ev.type === 'turn.completed').map((ev) => `${ev.taskId}:${String(ev.data.turn)}`);
    expect(completed.sort()).toEqual(Object.keys(fake.stats.requestsByKey).sort());
    // The resend is accounted for: the killed turn's gate lease was granted twice, every other once.
    const grants = Object.fromEntries(
      events.filter((ev) => ev.type === 'turn.completed').map((ev) => [`${ev.taskId}:${String(ev.data.turn)}`, ev.data.grants]),
    );
    expect(grants[target]).toBe(2);
    expect(
      Object.entries(grants)
        .filter(([k]) => k !== target)
        .every(([, n]) => n === 1),
    ).toBe(true);
    for (const task of flatten(tree)) {
      const messages = (await e.getMessages(task.id))!;
      const turns = Object.keys(fake.stats.requestsByKey).filter((k) => k.startsWith(`${task.id}:`)).length;
      expect(messages.filter((m) => m.role === 'assistant')).toHaveLength(turns);
      expect(task.turns).toBe(turns);
    }
    expect(await treeProblems(e, root)).toEqual({ [root]: [], [`${root}.1.0`]: [], [`${root}.2.0`]: [] });
  });
});
