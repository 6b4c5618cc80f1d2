import { conversationProblems, Engine, type Message } from '@baton/core';
import { chatCompletion, testPrefix, toolCall, type FakeProvider } from '@baton/testkit';
import { jobEnded, startFakeWorker, type FakeWorker } from '../test-utils/harness';
import { BUILT_IN_MODES, ModeRegistry } from '../modes/modes';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { WorkerApp } from '../worker-app';

/**
 * The human in the loop through the agent loop: the fake provider asks a
 * question or calls `execute_command` (the built-in one, so the
 * default approval policy applies), the test answers through the engine, and
 * the next request carries the tool result. Every turn is requested exactly once.
 */
describe('agent loop: ask_followup_question and approvals', () => {
  const prefix = testPrefix('hitl');
  let fake: FakeProvider;
  let stack: FakeWorker;
  let app: WorkerApp;
  let engine: Engine;
  let seq = 0;
  const modes = new ModeRegistry([...BUILT_IN_MODES, { name: 'shell', systemPrompt: 'You run commands.', tools: ['execute_command', 'attempt_completion'] }]);
  /** Lines the commands appended to `ran.log` in the session's workspace (the built-in execute_command runs them). */
  const ran = (sessionId: string): string[] => {
    const log = join(app.env.WORKSPACE_ROOT, 'default', sessionId, 'ran.log');
    return existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean) : [];
  };

  beforeAll(async () => {
    stack = await startFakeWorker({ prefix, env: { MAX_TURNS: '5', WORKER_CONCURRENCY: '1' }, modes });
    ({ fake, app, engine } = stack);
  });
  afterAll(() => stack?.close());

  /** Turn 1 answers with `first`; turn 2 completes with the last tool result. */
  function script(taskId: string, first: ReturnType<typeof toolCall>): void {
    fake.setPolicy((r) => {
      if (r.key === `${taskId}:1`) return { body: chatCompletion({ toolCalls: [first] }) };
      if (r.key === `${taskId}:2`) {
        const tools = (r.body.messages ?? []).filter((m) => m.role === 'tool');
        return { body: chatCompletion({ toolCalls: [toolCall('done', 'attempt_completion', { result: String(tools[tools.length - 1]?.content) })] }) };
      }
      return undefined;
    });
  }

  async function untilAwaiting(taskId: string, sessionId: string): Promise<void> {
    const connection = engine.redis.duplicate();
    try {
      let after = '0';
      for (;;) {
        if ((await engine.getTask(taskId))?.status === 'awaiting_input') return;
        const events = await engine.events.waitFor(connection, sessionId, after, 1000);
        if (events.length) after = events[events.length - 1]!.id;
      }
    } finally {
      connection.disconnect();
    }
  }

  async function start(mode: string, first: ReturnType<typeof toolCall>) {
    const taskId = `h${++seq}-${prefix.slice(-8)}`;
    const sessionId = `s-${taskId}`;
    script(taskId, first);
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId, taskId, prompt: 'help me', mode });
    await untilAwaiting(taskId, sessionId);
    return { taskId, sessionId, ended };
  }

  async function finished(taskId: string, ended: Promise<void>) {
    await ended;
    const task = (await engine.getTask(taskId))!;
    const messages = (await engine.getMessages(taskId)) as Message[];
    expect(conversationProblems(messages)).toEqual([]);
    expect([fake.stats.requestsByKey[`${taskId}:1`], fake.stats.requestsByKey[`${taskId}:2`]]).toEqual([1, 1]);
    return { task, tools: messages.flatMap((m) => (m.role === 'tool' ? [m.content] : [])) };
  }

  it('a mode without the tool in its list still offers ask_followup_question; the answer is the tool result', async () => {
    const { taskId, ended } = await start('ask', toolCall('q1', 'ask_followup_question', { question: 'Which colour?', follow_up: ['red', 'blue'] }));
    const offered = fake.requests.find((r) => r.key === `${taskId}:1`)!.body.tools?.map((t) => t.function.name);
    expect(offered).toEqual(expect.arrayContaining(['attempt_completion', 'ask_followup_question']));
    expect((await engine.getTask(taskId))!.pendingInput).toMatchObject({
      kind: 'question',
      question: 'Which colour?',
      followUp: ['red', 'blue'],
      toolCallId: 'q1',
    });
    await engine.deliverInput({ taskId, response: { kind: 'answer', answer: 'blue' } });
    const { task, tools } = await finished(taskId, ended);
    expect(tools).toEqual(['<answer>\nblue\n</answer>', 'completed']);
    expect(task).toMatchObject({ status: 'completed', result: '<answer>\nblue\n</answer>', pendingInput: null });
  });

  it('a bad question is a tool error, not a wait', async () => {
    const taskId = `h${++seq}-${prefix.slice(-8)}`;
    script(taskId, toolCall('q0', 'ask_followup_question', { follow_up: 'no' }));
    const ended = jobEnded(app, taskId);
    await engine.submit({ sessionId: `s-${taskId}`, taskId, prompt: 'help me', mode: 'ask' });
    const { tools } = await finished(taskId, ended);
    expect(tools[0]).toMatch(/^error: invalid arguments for ask_followup_question:\n✖ .*\n {2}→ at question\n✖ .*\n {2}→ at follow_up\n/);
  });

  it('execute_command asks first (default policy); approved, it runs once and the feedback goes with its result', async () => {
    const command = 'echo approved >> ran.log';
    const { taskId, sessionId, ended } = await start('shell', toolCall('x1', 'execute_command', { command }));
    expect((await engine.getTask(taskId))!.pendingInput).toMatchObject({ kind: 'approval', tool: 'execute_command', arguments: { command }, toolCallId: 'x1' });
    expect(ran(sessionId)).toEqual([]);
    await expect(engine.deliverInput({ taskId, response: { kind: 'answer', answer: 'yes' } })).rejects.toMatchObject({ code: 'INPUT_KIND_MISMATCH' });
    await engine.deliverInput({ taskId, response: { kind: 'approval', approved: true, feedback: 'only this once' } });
    const { tools } = await finished(taskId, ended);
    expect(ran(sessionId)).toEqual(['approved']);
    expect(tools[0]).toMatch(
      /^exit code 0\n[\s\S]*\n\nThe user approved this operation and provided the following context:\n<feedback>\nonly this once\n<\/feedback>$/,
    );
  });

  it('denied, the command never runs and the model is told so, with the feedback', async () => {
    const { taskId, sessionId, ended } = await start('shell', toolCall('x2', 'execute_command', { command: 'echo denied >> ran.log' }));
    await engine.deliverInput({ taskId, response: { kind: 'approval', approved: false, feedback: 'never do that' } });
    const { tools } = await finished(taskId, ended);
    expect(ran(sessionId)).toEqual([]);
    expect(tools[0]).toBe('The user denied this operation and provided the following feedback:\n<feedback>\nnever do that\n</feedback>');
  });
});
