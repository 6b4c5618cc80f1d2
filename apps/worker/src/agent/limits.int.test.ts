import { conversationProblems, Engine, type Message } from '@baton/core';
import { testPrefix, type FakeProvider } from '@baton/testkit';
import { flatten, jobEnded, startFakeWorker, type FakeWorker, treeProblems } from '../test-utils/harness';
import { parseEnv } from '../env';
import type { WorkerApp } from '../worker-app';

/**
 * MAX_DEPTH and MAX_CHILDREN_PER_TASK as the model meets them: a refused
 * new_task is a tool error naming the limit, and the task goes on.
 */
describe('subtask limits in the agent loop (fake provider)', () => {
  const prefix = testPrefix('agent-limits');
  let fake: FakeProvider;
  let stack: FakeWorker;
  let app: WorkerApp;
  let engine: Engine;
  let seq = 0;

  beforeAll(async () => {
    stack = await startFakeWorker({ prefix, env: { MAX_DEPTH: '1', MAX_CHILDREN_PER_TASK: '2' } });
    ({ fake, app, engine } = stack);
  });
  afterAll(() => stack?.close());

  async function run(prompt: string) {
    const taskId = `r${++seq}-${prefix.slice(-8)}`;
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt });
    await ended;
    return { taskId, tree: (await engine.getTree(taskId))! };
  }
  const toolContents = async (taskId: string) => ((await engine.getMessages(taskId)) as Message[]).flatMap((m) => (m.role === 'tool' ? [m.content] : []));

  it('a new_task beyond MAX_DEPTH is a tool error the model sees; the tree completes', async () => {
    const { taskId, tree } = await run('outer steps=1 childMode=orchestrator :: inner steps=1');
    expect(flatten(tree).map((t) => [t.id, t.status])).toEqual([
      [taskId, 'completed'],
      [`${taskId}.1.0`, 'completed'],
    ]);
    const [refusal] = await toolContents(`${taskId}.1.0`);
    expect(refusal).toMatch(/^error: new_task refused: subtasks nest at most 1 levels deep \(MAX_DEPTH=1\)/);
    expect(refusal).toContain('Do this step yourself');
    expect(tree.result).toContain('error: new_task refused');
    expect(Object.values(await treeProblems(engine, taskId)).flat()).toEqual([]);
    // The refused child was never written, nor requested from the provider.
    expect(await engine.getTask(`${taskId}.1.0.1.0`)).toBeNull();
    expect(Object.keys(fake.stats.requestsByKey).some((k) => k.startsWith(`${taskId}.1.0.1.0`))).toBe(false);
  });

  it('the new_task past MAX_CHILDREN_PER_TASK is a tool error; the earlier subtasks ran', async () => {
    const { taskId, tree } = await run('ship it steps=3');
    expect(tree.status).toBe('completed');
    expect(tree.childIds).toEqual([`${taskId}.1.0`, `${taskId}.2.0`]);
    const contents = await toolContents(taskId);
    expect(contents.slice(0, 2)).toEqual(['done: Step 1 of 3: ship it steps=3', 'done: Step 2 of 3: ship it steps=3']);
    expect(contents[2]).toMatch(/^error: new_task refused: this task has already spawned 2 subtasks.*\(MAX_CHILDREN_PER_TASK=2\)/);
    expect(conversationProblems((await engine.getMessages(taskId))!)).toEqual([]);
  });
});

describe('MAX_DEPTH and MAX_CHILDREN_PER_TASK in the environment', () => {
  it('default to 8 and 100; MAX_DEPTH is at most 32; bad values name the variable', () => {
    expect(parseEnv({})).toMatchObject({ MAX_DEPTH: 8, MAX_CHILDREN_PER_TASK: 100 });
    expect(parseEnv({ MAX_DEPTH: '32', MAX_CHILDREN_PER_TASK: '1' })).toMatchObject({ MAX_DEPTH: 32, MAX_CHILDREN_PER_TASK: 1 });
    for (const [name, value] of [
      ['MAX_DEPTH', '33'],
      ['MAX_DEPTH', '0'],
      ['MAX_CHILDREN_PER_TASK', '0'],
      ['MAX_CHILDREN_PER_TASK', 'lots'],
    ] as const) {
      expect(() => parseEnv({ [name]: value })).toThrow(new RegExp(`\\(got "${value}"\\)\\n {2}→ at ${name}`));
    }
  });
});
