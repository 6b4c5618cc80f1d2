import { Engine, readModeCatalog, type Message } from '@baton/core';
import { chatCompletion, testPrefix, toolCall, type FakeProvider, type FakeRequest } from '@baton/testkit';
import { NUDGE_MARKER, TRUNCATED_MARKER } from '../prompt/nudges';
import { systemReference } from '../prompt/system-reference';
import { jobEnded, startFakeWorker, type FakeWorker, treeProblems } from '../test-utils/harness';
import { existsSync, readdirSync, type Dirent } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { WorkerApp } from '../worker-app';

/**
 * Modes in the agent loop: one in-process worker (built-in modes), the fake
 * provider over real HTTP, real Redis. Each test scripts the model by its
 * prompt (the first user message) and turn (assistant messages so far).
 */
describe('modes in the agent loop', () => {
  const prefix = testPrefix('modes');
  let fake: FakeProvider;
  let stack: FakeWorker;
  let app: WorkerApp;
  let engine: Engine;
  let seq = 0;
  /** Workspace-relative paths of every file the tasks wrote, over all sessions (`<tenant>/<session>/` cut off). */
  const written = (): string[] =>
    existsSync(app.env.WORKSPACE_ROOT)
      ? (readdirSync(app.env.WORKSPACE_ROOT, { recursive: true, withFileTypes: true }) as Dirent[])
          .filter((d) => d.isFile())
          .map((d) => relative(app.env.WORKSPACE_ROOT, join(d.parentPath, d.name)).split(sep).slice(2).join('/'))
      : [];

  type Script = (turn: number, req: FakeRequest) => Record<string, unknown>;
  const scripts = new Map<string, Script>();

  beforeAll(async () => {
    stack = await startFakeWorker({ prefix, env: { MAX_TURNS: '8', MAX_NO_TOOL_NUDGES: '2' } });
    ({ fake, app, engine } = stack);
    fake.setPolicy((req) => {
      const prompt = req.body.messages?.find((m) => m.role === 'user')?.content ?? '';
      const script = scripts.get(String(prompt));
      if (!script) return undefined;
      const turn = (req.body.messages ?? []).filter((m) => m.role === 'assistant').length + 1;
      return { body: script(turn, req) };
    });
  });
  afterAll(() => stack?.close());

  async function run(prompt: string, mode: string, script: Script) {
    scripts.set(prompt, script);
    const taskId = `m${++seq}-${prefix.slice(-8)}`;
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt, mode });
    await ended;
    const tree = (await engine.getTree(taskId))!;
    const messages = (await engine.getMessages(taskId)) as Message[];
    const requests = fake.requests.filter((r) => r.body.messages?.find((m) => m.role === 'user')?.content === prompt);
    const events = await engine.events.read(`s-${taskId}`);
    expect(Object.values(await treeProblems(engine, taskId)).flat()).toEqual([]);
    return { taskId, tree, messages, requests, events };
  }
  const completion = (turn: number, result: string) => chatCompletion({ toolCalls: [toolCall(`c${turn}`, 'attempt_completion', { result })] });
  const toolResults = (messages: Message[]) => messages.flatMap((m) => (m.role === 'tool' ? [m.content] : []));

  it('publishes the mode catalogue at start', async () => {
    const catalog = await readModeCatalog(engine.redis, engine.keys);
    expect(catalog?.modes.map((m) => m.slug)).toEqual(['orchestrator', 'code', 'ask', 'architect', 'debug']);
    expect(catalog?.modes[1]).toMatchObject({ name: 'Code', whenToUse: expect.stringContaining('write, modify or refactor code') });
  });

  it('answers a text-only reply with the "use a tool" nudge, then completes', async () => {
    const { tree, messages, requests } = await run('nudge then complete', 'code', (turn) =>
      turn === 1 ? chatCompletion({ content: 'I think it is done.' }) : completion(turn, 'done'),
    );
    expect(tree).toMatchObject({ status: 'completed', result: 'done' });
    expect(messages[3]).toMatchObject({ role: 'user', content: expect.stringContaining(NUDGE_MARKER) });
    expect(requests[1]!.body.messages?.[3]?.content).toContain("If you have completed the user's task, use the attempt_completion tool.");
  });

  it('fails with NO_TOOL_USE after MAX_NO_TOOL_NUDGES nudges in a row', async () => {
    const { tree, messages, requests } = await run('never uses a tool', 'ask', () => chatCompletion({ content: 'just text' }));
    expect(tree.status).toBe('failed');
    expect(tree.error).toEqual({ code: 'NO_TOOL_USE', message: 'the model answered without calling a tool 3 times in a row (MAX_NO_TOOL_NUDGES=2)' });
    expect(requests).toHaveLength(3);
    expect(messages.filter((m) => m.role === 'user' && m.content.startsWith(NUDGE_MARKER))).toHaveLength(2);
    expect(messages.at(-1)).toMatchObject({ role: 'assistant', content: 'just text' });
  });

  it('handles finish_reason length: a cut reply gets the truncation nudge, a cut tool call a JSON error that says so', async () => {
    const { tree, messages } = await run('cut off', 'code', (turn) => {
      if (turn === 1) {
        const body = chatCompletion({ content: 'Here is the long file: ...' });
        (body.choices as { finish_reason: string }[])[0]!.finish_reason = 'length';
        return body;
      }
      if (turn === 2) {
        const body = chatCompletion({ toolCalls: [toolCall('c2', 'write_to_file', '{"path": "a.md", "content": "abc')] });
        (body.choices as { finish_reason: string }[])[0]!.finish_reason = 'length';
        return body;
      }
      return completion(turn, 'ok');
    });
    expect(tree.status).toBe('completed');
    expect(messages[3]).toMatchObject({ role: 'user', content: expect.stringContaining(TRUNCATED_MARKER) });
    expect(toolResults(messages)[0]).toMatch(/^error: the arguments of write_to_file are not valid JSON .*cut off at the output token limit/);
  });

  it('switch_mode persists the new mode (fenced) and the next turns get its tools and prompt; update_todo_list stores the list', async () => {
    const todos = [
      { text: 'plan', status: 'completed' },
      { text: 'build', status: 'in_progress' },
    ];
    const { tree, messages, requests, events } = await run('switch to code', 'ask', (turn) => {
      if (turn === 1) return chatCompletion({ toolCalls: [toolCall('c1', 'write_to_file', { path: 'x.ts', content: '' })] });
      if (turn === 2)
        return chatCompletion({
          toolCalls: [toolCall('c2', 'switch_mode', { mode_slug: 'code', reason: 'need to write' }), toolCall('c3', 'update_todo_list', { todos })],
        });
      if (turn === 3) return chatCompletion({ toolCalls: [toolCall('c4', 'write_to_file', { path: 'x.ts', content: '' })] });
      return completion(turn, 'written');
    });
    expect(tree).toMatchObject({ status: 'completed', mode: 'code', todos });
    const results = toolResults(messages);
    expect(results[0]).toMatch(/^error: unknown tool "write_to_file"\. Available tools: read_file, /);
    expect(results[1]).toBe('Switched from mode ask to code (Code). Its tools and instructions apply from your next step.');
    expect(results[2]).toBe('Todo list updated (2 items, 1 completed).');
    expect(results[3]).toBe('created x.ts (0 lines)');
    const names = (r: FakeRequest) => r.body.tools?.map((t) => t.function.name) ?? [];
    expect(names(requests[0]!)).not.toContain('write_to_file');
    expect(names(requests[2]!)).toContain('write_to_file');
    expect(requests[0]!.body.messages?.[0]?.content).toMatch(/^Current mode: ask /m);
    expect(requests[2]!.body.messages?.[0]?.content).toMatch(/^Current mode: code /m);
    // The stored system message stays a reference to the prompt the task started with (ask's, as request 1 sent it).
    expect(messages[0]).toEqual(systemReference('ask', String(requests[0]!.body.messages?.[0]?.content)));
    expect(events.filter((e) => e.type === 'task.mode_switched').map((e) => e.data)).toEqual([{ from: 'ask', to: 'code', reason: 'need to write' }]);
    expect(events.filter((e) => e.type === 'task.todos_updated').map((e) => e.data)).toEqual([{ todos }]);
  });

  it("refuses an architect's edit outside its fileRegex as a tool error naming the regex", async () => {
    const { tree, messages } = await run('architect edits', 'architect', (turn) => {
      if (turn === 1)
        return chatCompletion({
          toolCalls: [
            toolCall('c1', 'write_to_file', { path: 'src/app.ts', content: 'x' }),
            toolCall('c2', 'write_to_file', { path: 'docs/plan.md', content: 'x' }),
          ],
        });
      return completion(turn, 'planned');
    });
    expect(tree.status).toBe('completed');
    expect(toolResults(messages).slice(0, 2)).toEqual([
      expect.stringMatching(/^error: write_to_file refused: .*\/\\\.md\$\/ \(Markdown files only\)/),
      expect.stringMatching(/^created docs\/plan\.md/),
    ]);
    expect(written()).toContain('docs/plan.md');
    expect(written()).not.toContain('src/app.ts');
  });

  it('sends new_task with a mode enum; a subtask spawned with todos starts with them', async () => {
    const todos = [{ text: 'write it', status: 'pending' }];
    const { tree, requests } = await run('delegate with todos', 'orchestrator', (turn, req) => {
      const system = String(req.body.messages?.[0]?.content ?? '');
      if (/^Current mode: code /m.test(system)) return completion(turn, 'child done');
      if (turn === 1) return chatCompletion({ toolCalls: [toolCall('c1', 'new_task', { mode: 'code', message: 'delegate with todos', todos })] });
      return completion(turn, 'parent done');
    });
    expect(tree.status).toBe('completed');
    const newTask = requests[0]!.body.tools?.find((t) => t.function.name === 'new_task');
    expect((newTask?.function.parameters as { properties: { mode: { enum: string[] } } }).properties.mode.enum).toEqual([
      'orchestrator',
      'code',
      'ask',
      'architect',
      'debug',
    ]);
    expect(requests[0]!.body.tools?.map((t) => t.function.name)).toEqual([
      'ask_followup_question',
      'attempt_completion',
      'switch_mode',
      'new_task',
      'update_todo_list',
    ]);
    const child = (await engine.getTree(tree.id))!.children[0]!;
    expect(child).toMatchObject({ mode: 'code', status: 'completed', todos });
  });
});
