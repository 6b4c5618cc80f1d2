import { Engine, TaskWorker, type Message, type TaskContext, type TaskHandler } from '@baton/core';
import { cleanupPrefix, deferred, REDIS_URL, testPrefix, type Deferred } from '@baton/testkit';
import type { FastifyInstance } from 'fastify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { type BrowserContext, type Page } from 'playwright-core';
import { buildApp } from '../app';
import { parseEnv } from '../env';
import { waitForTask } from '../test-utils/harness';

import { describeWithChromium as chromiumDescribe, launchChromium } from '../test-utils/chromium';

/**
 * The console (`/console`) in a real browser: Debian's chromium, headless,
 * driven by playwright-core, against the real app listening on a port, with a
 * real TaskWorker on the same engine and real Redis. The console is plain ES
 * modules under a strict CSP, so only a browser proves that its page, its
 * fetch-based SSE reader and the /v1 routes work together. CI installs
 * chromium with `apt-get install -y chromium`.
 */
const describeWithChromium = chromiumDescribe('console-chromium');

const SECRET = 'console-secret-1';
const SESSION = 'console-s1';

/**
 * A deterministic agent (not an LLM) whose conversations look like a real
 * one's: a root delegates with a `new_task` tool call and completes with the
 * subtask's result; a subtask calls `write_to_file`, gets its result, then
 * answers in a second turn, which the first subtask holds until the test
 * releases it (later ones do not wait). Replays from the conversation like
 * the real agent loop, so parks and re-runs are real.
 */
function consoleAgent(childStarted: (taskId: string) => void, childRelease: Promise<void>, streaming: Streaming): TaskHandler {
  const turn = async (ctx: TaskContext, n: number, at: number, answer: () => Promise<Message>): Promise<void> => {
    if ((await ctx.messages()).length !== at) return;
    await ctx.checkpoint(n);
    const { response } = await ctx.gate(n, answer);
    await ctx.append(at, [response]);
  };
  return async (ctx) => {
    if ((await ctx.messages()).length === 0) await ctx.append(0, [{ role: 'user', content: ctx.task.prompt }]);
    if (ctx.task.prompt.startsWith('stream:')) {
      // A streamed turn as the worker's delta publisher writes it: fenced message.delta events, held until released.
      let token = '';
      const key = { sessionId: ctx.sessionId, taskId: ctx.taskId, turn: 1 };
      const delta = (seq: number, attempt: number, text: string) =>
        ctx.engine.scripts.emitDelta(key, token, JSON.stringify({ turn: 1, grant: 1, attempt, seq, text }));
      await turnWithHooks(
        ctx,
        async () => {
          await delta(1, 1, 'Stale try');
          await delta(2, 2, 'Streaming hel');
          await delta(3, 2, 'lo');
          streaming.started.resolve(ctx.taskId);
          await streaming.release.promise;
          return { role: 'assistant', content: 'Streamed hello, committed.' };
        },
        (grant) => (token = grant.token),
      );
      return { status: 'completed', result: 'streamed' };
    }
    const asks = /^(ask|approve):/.exec(ctx.task.prompt);
    if (asks) {
      // A root that asks the user (a question, or approval of a command), durably parked until answered.
      const question = asks[1] === 'ask';
      const name = question ? 'ask_followup_question' : 'execute_command';
      const args = question ? { question: 'Which indentation?', follow_up: ['Spaces', 'Tabs'] } : { command: 'git push' };
      await turn(ctx, 1, 1, async () => ({
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_in', type: 'function', function: { name, arguments: JSON.stringify(args) } }],
      }));
      if ((await ctx.messages()).length === 2) {
        const r = await ctx.awaitInput(
          'call_in',
          question ? { kind: 'question', question: args.question!, followUp: args.follow_up! } : { kind: 'approval', tool: name, arguments: args },
        );
        const content = r.kind === 'answer' ? r.answer : r.approved ? 'approved: ran git push' : `denied: ${r.feedback ?? ''}`;
        await ctx.append(2, [{ role: 'tool', tool_call_id: 'call_in', content }]);
      }
      return { status: 'completed', result: 'input handled' };
    }
    if (ctx.task.parentId === null) {
      await turn(ctx, 1, 1, async () => ({
        role: 'assistant',
        content: 'Delegating the file to a code task.',
        tool_calls: [
          { id: 'call_new_task', type: 'function', function: { name: 'new_task', arguments: JSON.stringify({ mode: 'code', message: 'write notes.md' }) } },
        ],
      }));
      if ((await ctx.messages()).length === 2) {
        const outcome = await ctx.subtask({ key: '1.0', mode: 'code', prompt: 'write notes.md' });
        const content = outcome.status === 'completed' ? `Subtask completed: ${outcome.result}` : `Subtask ${outcome.status}`;
        await ctx.append(2, [{ role: 'tool', tool_call_id: 'call_new_task', content }]);
      }
      await turn(ctx, 2, 3, async () => ({ role: 'assistant', content: 'All done: notes.md is written.' }));
      return { status: 'completed', result: 'notes.md is written' };
    }
    await turn(ctx, 1, 1, async () => ({
      role: 'assistant',
      content: null,
      tool_calls: [
        { id: 'call_write', type: 'function', function: { name: 'write_to_file', arguments: JSON.stringify({ path: 'notes.md', content: '# Notes\nhello' }) } },
      ],
    }));
    if ((await ctx.messages()).length === 2) await ctx.append(2, [{ role: 'tool', tool_call_id: 'call_write', content: 'Wrote 2 lines to notes.md' }]);
    await turn(ctx, 2, 3, async () => {
      childStarted(ctx.taskId);
      await childRelease;
      return { role: 'assistant', content: 'Wrote notes.md.' };
    });
    return { status: 'completed', result: 'wrote notes.md' };
  };
}

interface Streaming {
  started: Deferred<string>;
  release: Deferred<void>;
}

async function turnWithHooks(ctx: TaskContext, answer: () => Promise<Message>, onGranted: (grant: { token: string }) => void): Promise<void> {
  if ((await ctx.messages()).length !== 1) return;
  await ctx.checkpoint(1);
  const { response } = await ctx.gate(1, answer, { onGranted });
  await ctx.append(1, [response]);
}

describeWithChromium('the console in headless Chromium', () => {
  let prefix: string;
  let engine: Engine;
  let worker: TaskWorker;
  let app: FastifyInstance;
  let baseUrl: string;
  let profile: string;
  let browser: BrowserContext;
  const childStarted = deferred<string>();
  const childRelease = deferred<void>();
  const streaming: Streaming = { started: deferred<string>(), release: deferred<void>() };

  beforeAll(async () => {
    prefix = testPrefix('console');
    const logger = pino({ level: 'silent' });
    const config = parseEnv({ REDIS_URL, BATON_PREFIX: prefix, API_KEYS: `acme:${SECRET}`, LOG_LEVEL: 'silent' });
    engine = new Engine(REDIS_URL, { prefix }, logger);
    worker = new TaskWorker(engine, consoleAgent(childStarted.resolve, childRelease.promise, streaming), { concurrency: 2 });
    await worker.waitUntilReady();
    app = await buildApp(config, { engine, logger });
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    profile = await mkdtemp(join(tmpdir(), 'baton-console-chromium-'));
    browser = await launchChromium(profile);
  });

  afterAll(async () => {
    childRelease.resolve();
    streaming.release.resolve();
    await browser?.close();
    await app?.close();
    await worker?.close(true);
    await engine?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    if (prefix) await cleanupPrefix(prefix);
  });

  /** A page that records console errors, uncaught exceptions, CSP violations and failed responses. */
  async function openConsole(): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console.${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('response', (r) => {
      if (r.status() >= 400) problems.push(`${r.status()} ${r.url()}`);
    });
    // Init scripts run through the DevTools protocol, outside the page's CSP: they can watch for its violations.
    await page.exposeFunction('reportCspViolation', (text: string) => problems.push(`csp: ${text}`));
    await page.addInitScript({
      content: "document.addEventListener('securitypolicyviolation', (e) => window.reportCspViolation(e.violatedDirective + ' ' + e.blockedURI));",
    });
    const response = await page.goto(`${baseUrl}/console`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toMatch(/^default-src 'self';/);
    return { page, problems };
  }

  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${baseUrl}${path}`, { ...init, headers: { authorization: `Bearer ${SECRET}`, 'content-type': 'application/json', ...init.headers } });

  it('signs in with a key, lists a session submitted through the API, shows its tree live and its conversations', async () => {
    const { page, problems } = await openConsole();

    // A wrong key is refused with a message, and not kept.
    await page.getByLabel('API key', { exact: true }).fill('not-the-right-key');
    await page.getByRole('button', { name: 'Open the console' }).click();
    await page.getByRole('alert').getByText('This key was refused').waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    problems.splice(0); // the 401 (and the browser's log of it) were the point

    await page.getByLabel('API key', { exact: true }).fill(SECRET);
    await page.getByRole('button', { name: 'Open the console' }).click();
    await page.getByRole('heading', { name: 'Sessions' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.getItem('baton.console.apiKey'))).toBe(SECRET);

    const submitted = await api(`/v1/sessions/${SESSION}/tasks`, { method: 'POST', body: JSON.stringify({ prompt: 'Write the notes' }) });
    expect(submitted.status).toBe(201);
    const root = (await submitted.json()) as { id: string };
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('link', { name: SESSION }).click();
    await page.getByRole('heading', { name: `Session ${SESSION}` }).waitFor();
    await page.locator('#stream-state[data-state="live"]').waitFor();

    // The subtask holds in its second turn: the tree shows it running under its waiting root.
    const childId = await childStarted.promise;
    const node = (id: string, status: string) => page.locator(`#tree li[data-task-id="${id}"][data-status="${status}"]`);
    await node(root.id, 'waiting').waitFor();
    await node(childId, 'running').waitFor();
    expect(await page.locator(`#tree li[data-task-id="${root.id}"] li[data-task-id="${childId}"]`).count()).toBe(1);

    // Released, both finish: the tree follows over the event stream, with nobody reloading the page.
    childRelease.resolve();
    await node(childId, 'completed').waitFor();
    await node(root.id, 'completed').waitFor();

    // The subtask's conversation: its tool call with arguments, the tool's result, its answer.
    await page.locator(`#tree li[data-task-id="${childId}"] > button`).click();
    await page.getByRole('heading', { name: `Task ${childId}` }).waitFor();
    const conversation = page.locator('#conversation');
    await conversation.getByText('Tool call: write_to_file').waitFor();
    expect(await conversation.locator('pre.args').first().textContent()).toContain('"path": "notes.md"');
    await conversation.getByText('Result of write_to_file').waitFor();
    await conversation.getByText('Wrote 2 lines to notes.md').waitFor();
    await conversation.getByText('Wrote notes.md.').waitFor();

    // The root's: the delegation and the subtask's result delivered as the tool result.
    await page.locator(`#tree li[data-task-id="${root.id}"] > button`).click();
    await page.getByRole('heading', { name: `Task ${root.id}` }).waitFor();
    await conversation.getByText('Tool call: new_task').waitFor();
    await conversation.getByText('Subtask completed: wrote notes.md').waitFor();
    await page.locator('#task-meta').getByText('notes.md is written').waitFor();
    expect(await page.locator('#cancel-task').isHidden()).toBe(true);

    // Pause and resume from the console.
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('#session-status .status-paused').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#session-status .status-idle').waitFor();

    // A task submitted from the console joins the session and runs to the end (later subtasks do not hold).
    await page.getByText('Submit a task to this session').click();
    await page.getByLabel('New task').fill('Write the notes again');
    await page.locator('#submit-form').getByRole('button', { name: 'Submit' }).click();
    await page
      .getByRole('status')
      .getByText(/^Task t_\w+ submitted\.$/)
      .waitFor();
    const roots = (await (await api(`/v1/sessions/${SESSION}/tasks`)).json()) as { tasks: { id: string; prompt: string }[] };
    const second = roots.tasks.find((t) => t.prompt === 'Write the notes again');
    expect(second).toBeDefined();
    await node(second!.id, 'completed').waitFor();
    await page.getByRole('heading', { name: `Task ${second!.id}` }).waitFor();

    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the live text of a streaming turn (newest attempt only), then the committed message', async () => {
    const { page, problems } = await openConsole();
    await page.getByLabel('API key', { exact: true }).fill(SECRET);
    await page.getByRole('button', { name: 'Open the console' }).click();
    const submitted = await api('/v1/sessions/console-stream/tasks', { method: 'POST', body: JSON.stringify({ prompt: 'stream: say hello' }) });
    const root = (await submitted.json()) as { id: string };
    const taskId = await streaming.started.promise;
    expect(taskId).toBe(root.id);
    await page.getByRole('button', { name: 'Refresh' }).click();
    await page.getByRole('link', { name: 'console-stream' }).click();
    await page.locator('#stream-state[data-state="live"]').waitFor();
    await page.locator(`#tree li[data-task-id="${root.id}"] > button`).click();
    await page.getByRole('heading', { name: `Task ${root.id}` }).waitFor();
    // The stream replays the deltas still in Redis: the stale attempt is dropped, the newest shown.
    const live = page.locator('#live-message pre');
    await live.getByText('Streaming hello', { exact: true }).waitFor();

    streaming.release.resolve();
    await page.locator(`#tree li[data-task-id="${root.id}"][data-status="completed"]`).waitFor();
    await page.locator('#conversation').getByText('Streamed hello, committed.').waitFor();
    await page.locator('#live-message').waitFor({ state: 'detached' });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('cancels a task; after a dropped stream it resumes with Last-Event-ID, and reloads when the API answers `reset`', async () => {
    const { page, problems } = await openConsole();
    await page.getByLabel('API key', { exact: true }).fill(SECRET);
    await page.getByRole('button', { name: 'Open the console' }).click();
    await page.getByRole('link', { name: SESSION }).click();
    await page.locator('#stream-state[data-state="live"]').waitFor();
    const node = (id: string, status: string) => page.locator(`#tree li[data-task-id="${id}"][data-status="${status}"]`);

    // A root queued in a paused session, cancelled from the console (after confirming).
    expect((await api(`/v1/sessions/${SESSION}/pause`, { method: 'POST' })).status).toBe(200);
    const queued = (await (await api(`/v1/sessions/${SESSION}/tasks`, { method: 'POST', body: JSON.stringify({ prompt: 'never runs' }) })).json()) as {
      id: string;
    };
    await node(queued.id, 'queued').waitFor();
    await page.locator(`#tree li[data-task-id="${queued.id}"] > button`).click();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Cancel task' }).click();
    await node(queued.id, 'cancelled').waitFor();
    await page.getByRole('button', { name: 'Resume' }).click();
    await page.locator('#session-status .status-idle').waitFor();

    // The stream drops; the console's reconnect is held until the events after its position are gone.
    const held = deferred<string | undefined>();
    const gate = deferred<void>();
    await page.route('**/v1/sessions/*/events', async (route) => {
      held.resolve(route.request().headers()['last-event-id']);
      await gate.promise;
      await route.continue();
    });
    app.server.closeAllConnections();
    const lastEventId = await held.promise;
    expect(lastEventId).toMatch(/^\d+-\d+$/);
    const unseen = (await (await api(`/v1/sessions/${SESSION}/tasks`, { method: 'POST', body: JSON.stringify({ prompt: 'Write while away' }) })).json()) as {
      id: string;
    };
    await waitForTask(engine, unseen.id, ['completed']);
    await engine.redis.xtrim(engine.keys.events(SESSION), 'MAXLEN', 0);
    gate.resolve();

    // The API answers `event: reset`: the console says so and reloads the session, which shows the task it never had events of.
    await page.getByRole('status').getByText('Some events were no longer retained').waitFor();
    await node(unseen.id, 'completed').waitFor();
    await page.locator('#stream-state[data-state="live"]').waitFor();

    // The browser logs the stream it lost mid-body; that one line is the drop this test made, nothing else may appear.
    const dropped = problems.filter((p) => p.includes('net::ERR_INCOMPLETE_CHUNKED_ENCODING'));
    expect(dropped.length).toBeLessThanOrEqual(1);
    expect(problems.filter((p) => !dropped.includes(p))).toEqual([]);
    await page.close();
  });

  it("the SSE parser and the question/approval panels, as the page's own modules", async () => {
    const { page, problems } = await openConsole();
    // Run in the page, as an ES module import under the page's CSP; written as a string (the test compiles without DOM types).
    const result = (await page.evaluate(`(async () => {
      const { SseParser } = await import('/console/sse.js');
      const { renderPending } = await import('/console/render.js');
      const messages = [];
      const parser = new SseParser((m) => messages.push(m));
      // CRLF and LF, a frame split across chunks (a CR at a chunk's end), comments, two data lines, an id-only frame.
      for (const chunk of [': connected\\n\\n', 'id: 1-0\\r', '\\nevent: task.created\\r\\ndata: {"a":', '1}\\r\\n\\r\\n', ': keep-alive\\n\\n',
        'id: 2-0\\nevent: reset\\ndata: line one\\ndata: line two\\n\\n', 'id: 3-0\\n\\n', 'data: no event name\\n\\n']) parser.push(chunk);

      const sent = [];
      const mount = (nodes) => { const div = document.createElement('div'); div.append(...nodes); document.body.append(div); return div; };
      const question = mount(renderPending({ kind: 'question', question: 'Which file?', followUp: ['a.ts', 'b.ts'], askedAt: '2026-01-01T00:00:00Z' }, (b) => sent.push(b)));
      const suggestions = [...question.querySelectorAll('.suggestion')].map((b) => b.textContent);
      question.querySelectorAll('.suggestion')[1].click();
      question.querySelector('textarea').value = 'c.ts, please';
      question.querySelector('form').requestSubmit();
      const approval = mount(renderPending({ kind: 'approval', tool: 'execute_command', arguments: { command: 'rm -rf build' }, askedAt: '2026-01-01T00:00:00Z' }, (b) => sent.push(b)));
      const shown = approval.querySelector('pre.args').textContent;
      const tool = approval.querySelector('.approval-tool').textContent;
      approval.querySelector('button.approve').click();
      approval.querySelector('textarea').value = 'not on main';
      approval.querySelector('button.deny').click();
      // Model text is text: markup in a question is shown, never parsed.
      const hostile = mount(renderPending({ kind: 'question', question: '<img src=x onerror=alert(1)>', followUp: [], askedAt: null }, () => {}));
      return { messages, suggestions, sent, shown, tool, hostileImages: hostile.querySelectorAll('img').length, hostileText: hostile.querySelector('pre').textContent };
    })()`)) as Record<string, unknown>;

    expect(result.messages).toEqual([
      { id: '1-0', event: 'task.created', data: '{"a":1}' },
      { id: '2-0', event: 'reset', data: 'line one\nline two' },
      { id: '3-0', event: 'message', data: 'no event name' },
    ]);
    expect(result.suggestions).toEqual(['a.ts', 'b.ts']);
    expect(result.sent).toEqual([{ answer: 'b.ts' }, { answer: 'c.ts, please' }, { approved: true }, { approved: false, feedback: 'not on main' }]);
    expect(result.tool).toBe('execute_command');
    expect(JSON.parse(result.shown as string)).toEqual({ command: 'rm -rf build' });
    expect(result.hostileImages).toBe(0);
    expect(result.hostileText).toBe('<img src=x onerror=alert(1)>');
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows a pending question and an approval, and posts the answer, the approval and a denial with feedback', async () => {
    /** Submits a root that asks, and resolves once it waits for the user (its `task.input_required` is on the stream). */
    const parkForInput = async (sessionId: string, kind: 'question' | 'approval'): Promise<string> => {
      const res = await api(`/v1/sessions/${sessionId}/tasks`, {
        method: 'POST',
        body: JSON.stringify({ prompt: `${kind === 'question' ? 'ask' : 'approve'}: please` }),
      });
      expect(res.status).toBe(201);
      const task = (await res.json()) as { id: string };
      for (let after = '0-0'; ;) {
        const events = await engine.readEvents(sessionId, after, 100);
        if (events.some((e) => e.type === 'task.input_required' && e.taskId === task.id)) return task.id;
        after = events.at(-1)?.id ?? after;
        await new Promise((r) => setTimeout(r, 20)); // waiting for a state, not racing one
      }
    };
    const { page, problems } = await openConsole();
    await page.getByLabel('API key', { exact: true }).fill(SECRET);
    await page.getByRole('button', { name: 'Open the console' }).click();

    // A question with follow-up suggestions: a suggestion is one click.
    const asking = await parkForInput('console-hitl', 'question');
    await page.goto(`${baseUrl}/console#/s/console-hitl`);
    await page.getByRole('heading', { name: 'Waiting for you' }).waitFor();
    await page.locator(`#attention-list a[href$="/t/${asking}"]`).click();
    await page.getByRole('heading', { name: 'Question' }).waitFor();
    const suggestion = page.locator('#pending-body .suggestion').first();
    const suggested = (await suggestion.textContent())!;
    await suggestion.click();
    await page.getByRole('status').getByText('Answer sent.').waitFor();
    await page.locator('#pending').waitFor({ state: 'hidden' });
    await page.locator('#conversation').getByText(suggested).first().waitFor();

    // A free-text answer to a second question.
    const again = await parkForInput('console-hitl', 'question');
    await page.goto(`${baseUrl}/console#/s/console-hitl/t/${again}`);
    await page.getByLabel('Your answer').fill('Use tabs.');
    await page.getByRole('button', { name: 'Send answer' }).click();
    await page.getByRole('status').getByText('Answer sent.').waitFor();

    // An approval: the tool and its arguments are shown; Approve runs it.
    const approving = await parkForInput('console-hitl', 'approval');
    await page.goto(`${baseUrl}/console#/s/console-hitl/t/${approving}`);
    await page.getByRole('heading', { name: 'Approval required' }).waitFor();
    await page.locator('.approval-tool').getByText('execute_command').waitFor();
    await page.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('status').getByText('Approved.').waitFor();

    // A denial with feedback reaches the model as the tool's result.
    const denying = await parkForInput('console-hitl', 'approval');
    await page.goto(`${baseUrl}/console#/s/console-hitl/t/${denying}`);
    await page.getByLabel('Feedback for the agent (optional)').fill('Not on the main branch.');
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    await page.getByRole('status').getByText('Denied.').waitFor();
    const input = (await (await api(`/v1/tasks/${denying}/input`, { method: 'POST', body: JSON.stringify({ approved: true }) })).status) as number;
    expect(input).toBe(409); // answered already: the console shows the same 409 as "no longer waiting"

    expect(problems).toEqual([]);
    await page.close();
  });
});
