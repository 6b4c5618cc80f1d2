/* global document, location, window, confirm */
// The Baton console: sessions, their task trees live over SSE, conversations, questions and approvals.
// State lives here; render.js builds DOM, api.js talks to /v1, sse.js reads the event stream.

import { Api, ApiProblem, keyStore } from './api.js';
import { flatten, formatTime, h, renderConversation, renderPending, renderTaskMeta, renderTrees, statusBadge } from './render.js';
import { EventStream } from './sse.js';

const $ = (id) => document.getElementById(id);
const TERMINAL = new Set(['completed', 'failed', 'cancelled']);
/** The status an event moves its task to, applied at once; the debounced reload that follows brings the rest. */
const EVENT_STATUS = {
  'task.created': 'queued',
  'task.started': 'running',
  'task.resumed': 'running',
  'task.waiting': 'waiting',
  'task.paused': 'paused',
  'task.completed': 'completed',
  'task.failed': 'failed',
  'task.cancelled': 'cancelled',
  'task.input_required': 'awaiting_input',
  'task.input_received': 'running',
};
const RELOAD_DELAY_MS = 120;
/** Events this much older than the last load (by the server's clock against ours) are history, not news. */
const FRESH_SLACK_MS = 5_000;

const state = {
  api: null,
  key: '',
  sessions: [],
  nextCursor: null,
  sessionId: null,
  session: null,
  roots: [],
  stream: null,
  taskId: null,
  task: null,
  pendingShown: '',
  generation: 0,
  /** When the session's trees were last loaded (ms). */
  loadedAt: 0,
  /** Streaming turns of the session's tasks (message.delta): taskId -> {turn, grant, attempt, text}, until the turn commits. */
  live: new Map(),
};

function notice(text, error = false) {
  const el = $('notice');
  el.textContent = text;
  el.classList.toggle('error', error);
}

function fail(err) {
  notice(err instanceof ApiProblem ? err.message : `Unexpected error: ${err && err.message ? err.message : err}`, true);
}

/** Runs `load` after a short delay, once for a burst of calls; never two at a time. */
function debounced(load) {
  let timer = null;
  let running = null;
  let again = false;
  const run = async () => {
    timer = null;
    if (running) {
      again = true;
      return;
    }
    running = load().catch(fail);
    await running;
    running = null;
    if (again) {
      again = false;
      schedule();
    }
  };
  const schedule = () => {
    if (timer === null) timer = setTimeout(run, RELOAD_DELAY_MS);
  };
  return schedule;
}

// --- sign in ---------------------------------------------------------------

function showLogin(message = '') {
  $('login').hidden = false;
  $('workspace').hidden = true;
  $('forget-key').hidden = true;
  $('login-error').textContent = message;
  $('api-key').focus();
}

async function signIn(key) {
  const api = new Api(key);
  try {
    const page = await api.listSessions();
    state.api = api;
    state.key = key;
    keyStore.set(key);
    $('login').hidden = true;
    $('workspace').hidden = false;
    $('forget-key').hidden = false;
    state.sessions = page.sessions;
    state.nextCursor = page.nextCursor;
    renderSessions();
    await route();
  } catch (err) {
    keyStore.clear();
    if (err instanceof ApiProblem && err.status === 401) showLogin('This key was refused. Check it and try again.');
    else showLogin(err instanceof ApiProblem ? err.message : String(err));
  }
}

function forgetKey() {
  keyStore.clear();
  closeSession();
  state.api = null;
  state.sessions = [];
  $('session-list').replaceChildren();
  $('api-key').value = '';
  showLogin();
}

// --- sessions ----------------------------------------------------------------

function renderSessions() {
  const items = state.sessions.map((s) =>
    h(
      'li',
      { 'data-session-id': s.id },
      h('a', { href: `#/s/${encodeURIComponent(s.id)}`, 'aria-current': s.id === state.sessionId ? 'page' : undefined }, s.id),
      ' ',
      statusBadge(s.status),
      h('span', { class: 'meta' }, ` ${formatTime(s.lastActivityAt)}`),
    ),
  );
  $('session-list').replaceChildren(...(items.length ? items : [h('li', { class: 'empty' }, 'No sessions yet. Start one below.')]));
  $('more-sessions').hidden = !state.nextCursor;
}

async function refreshSessions() {
  const page = await state.api.listSessions();
  state.sessions = page.sessions;
  state.nextCursor = page.nextCursor;
  renderSessions();
}
const scheduleSessions = debounced(refreshSessions);

async function moreSessions() {
  const page = await state.api.listSessions(state.nextCursor);
  const known = new Set(state.sessions.map((s) => s.id));
  state.sessions.push(...page.sessions.filter((s) => !known.has(s.id)));
  state.nextCursor = page.nextCursor;
  renderSessions();
}

// --- routing: #/s/<session>[/t/<task>] ----------------------------------------

function parseHash() {
  const match = /^#\/s\/([^/]+)(?:\/t\/([^/]+))?$/.exec(location.hash);
  return match ? { sessionId: decodeURIComponent(match[1]), taskId: match[2] ? decodeURIComponent(match[2]) : null } : { sessionId: null, taskId: null };
}

async function route() {
  if (!state.api) return;
  const { sessionId, taskId } = parseHash();
  if (sessionId !== state.sessionId) openSession(sessionId);
  if (taskId !== state.taskId) selectTask(taskId);
}

function taskHref(taskId) {
  return `#/s/${encodeURIComponent(state.sessionId)}/t/${encodeURIComponent(taskId)}`;
}

// --- one session ---------------------------------------------------------------

function closeSession() {
  state.stream?.close();
  state.stream = null;
  state.sessionId = null;
  state.session = null;
  state.roots = [];
  state.live.clear();
  state.generation++;
  $('stream-state').textContent = '';
}

function openSession(sessionId) {
  closeSession();
  state.sessionId = sessionId;
  renderSessions();
  $('session-title').textContent = sessionId ? `Session ${sessionId}` : 'Select a session';
  $('session-body').hidden = !sessionId;
  $('tree').replaceChildren();
  if (!sessionId) return;
  const generation = state.generation;
  void loadSession().catch(fail);
  state.stream = new EventStream({
    sessionId,
    key: state.key,
    onEvent: (type, event) => {
      if (generation === state.generation) onSessionEvent(type, event);
    },
    onReset: () => {
      if (generation !== state.generation) return;
      notice('Some events were no longer retained: the session was reloaded.');
      scheduleSession();
      scheduleTask();
    },
    onState: (s, detail) => {
      if (generation !== state.generation) return;
      const text = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', closed: `Stream closed: ${detail}` }[s];
      $('stream-state').textContent = text ?? s;
      $('stream-state').dataset.state = s;
      // Reconnected: events may have been missed while we were away only if the API trimmed them (then it sends a reset).
    },
  });
}

async function loadSession() {
  const sessionId = state.sessionId;
  const generation = state.generation;
  const startedAt = Date.now();
  const [session, { tasks }] = await Promise.all([state.api.session(sessionId), state.api.sessionRoots(sessionId)]);
  const trees = await Promise.all(tasks.map((t) => state.api.tree(t.id).catch(() => ({ ...t, children: [] }))));
  if (generation !== state.generation) return;
  state.session = session;
  state.roots = trees;
  state.loadedAt = startedAt;
  renderSession();
}
const scheduleSession = debounced(loadSession);

function renderSession() {
  const s = state.session;
  // The list shows this session as just loaded (its entry is otherwise refreshed on new roots and session events only).
  const listed = state.sessions.find((e) => e.id === s.id);
  if (listed && listed.status !== s.status) {
    listed.status = s.status;
    renderSessions();
  }
  $('session-status').replaceChildren('Status: ', statusBadge(s.status), s.queuedTaskIds.length ? ` · ${s.queuedTaskIds.length} queued` : '');
  $('pause-session').hidden = s.status === 'paused';
  $('resume-session').hidden = s.status !== 'paused';
  $('tree').replaceChildren(renderTrees(state.roots, state.taskId, (id) => (location.hash = taskHref(id))));
  const waiting = flatten(state.roots).filter((t) => t.status === 'awaiting_input');
  $('attention').hidden = waiting.length === 0;
  $('attention-list').replaceChildren(
    ...waiting.map((t) => h('li', {}, h('a', { href: taskHref(t.id) }, `${t.mode} task ${t.id}`), ' is waiting for your answer')),
  );
}

function onSessionEvent(type, event) {
  // A live piece of a model response: shown, and nothing else is reloaded for it.
  if (type === 'message.delta') return onDelta(event);
  if (type === 'turn.completed' && state.live.delete(event.taskId) && event.taskId === state.taskId) renderLive();
  const status = EVENT_STATUS[type];
  // At once, before the reload: the tree shows the new status without a round trip. Not for the backlog
  // the stream replays first (older than what was loaded), and never out of a final status.
  const fresh = Date.parse(event.at) >= state.loadedAt - FRESH_SLACK_MS;
  if (status && event.taskId && fresh && state.session) {
    let changed = false;
    for (const t of flatten(state.roots)) {
      if (t.id === event.taskId && t.status !== status && !TERMINAL.has(t.status)) {
        t.status = status;
        changed = true;
      }
    }
    if (changed) renderSession();
  }
  scheduleSession();
  if (type === 'task.created' && !event.data?.parentId) scheduleSessions();
  if (type.startsWith('session.')) scheduleSessions();
  if (event.taskId && event.taskId === state.taskId) scheduleTask();
}

// --- one task --------------------------------------------------------------------

/** Live text of a task's turn: only the highest (grant, attempt) seen; a higher one starts over. */
function onDelta(event) {
  const d = event.data ?? {};
  if (!event.taskId || typeof d.turn !== 'number') return;
  let live = state.live.get(event.taskId);
  const order = live && live.turn === d.turn ? d.grant - live.grant || d.attempt - live.attempt : 1;
  if (order < 0) return;
  if (order > 0) state.live.set(event.taskId, (live = { turn: d.turn, grant: d.grant, attempt: d.attempt, text: '' }));
  live.text += d.text ?? '';
  for (const call of d.toolCalls ?? []) live.text += `${call.name ? `\n> ${call.name} ` : ''}${call.arguments ?? ''}`;
  if (event.taskId === state.taskId) renderLive();
}

/** The selected task's live text below its conversation (removed once its turn commits). */
function renderLive() {
  let el = $('live-message');
  const live = state.live.get(state.taskId);
  if (!live) return el?.remove();
  if (!el) {
    el = h('li', { class: 'msg msg-assistant', id: 'live-message' }, h('p', { class: 'role' }, 'Assistant (streaming…)'), h('pre', { class: 'text' }));
    $('conversation').append(el);
  }
  el.querySelector('pre').textContent = live.text;
}

function selectTask(taskId) {
  state.taskId = taskId;
  state.task = null;
  state.pendingShown = '';
  $('task').hidden = !taskId;
  $('pending').hidden = true;
  $('conversation').replaceChildren();
  if (state.session) renderSession();
  if (taskId) void loadTask().catch(fail);
}

async function loadTask() {
  const taskId = state.taskId;
  if (!taskId) return;
  const [task, { messages }] = await Promise.all([state.api.task(taskId), state.api.messages(taskId)]);
  if (taskId !== state.taskId) return;
  state.task = task;
  $('task-title').textContent = `Task ${task.id}`;
  $('task-meta').replaceChildren(...renderTaskMeta(task));
  $('cancel-task').hidden = TERMINAL.has(task.status);
  renderPendingInput(task);
  $('conversation').replaceChildren(...renderConversation(messages));
  renderLive();
}
const scheduleTask = debounced(loadTask);

function renderPendingInput(task) {
  const pending = task.status === 'awaiting_input' && task.pendingInput ? task.pendingInput : null;
  const shown = pending ? JSON.stringify(pending) : '';
  // Re-rendered only when the request changes: a reload must not wipe an answer being typed.
  if (shown === state.pendingShown) return;
  state.pendingShown = shown;
  $('pending').hidden = !pending;
  if (!pending) return $('pending-body').replaceChildren();
  $('pending-title').textContent = pending.kind === 'approval' ? 'Approval required' : 'Question';
  $('pending-body').replaceChildren(...renderPending(pending, (body) => void sendInput(task.id, body)));
}

async function sendInput(taskId, body) {
  for (const b of $('pending-body').querySelectorAll('button')) b.disabled = true;
  try {
    await state.api.input(taskId, body);
    notice('answer' in body ? 'Answer sent.' : body.approved ? 'Approved.' : 'Denied.');
  } catch (err) {
    if (err instanceof ApiProblem && err.status === 409) notice('This task is no longer waiting for input.', true);
    else fail(err);
  }
  // Forces the next load to re-render the panel, whether the task still waits or not.
  state.pendingShown = null;
  scheduleTask();
  scheduleSession();
}

// --- forms and buttons ----------------------------------------------------------------

async function submitTask(sessionId, body) {
  const task = await state.api.submit(sessionId, body);
  notice(`Task ${task.id} submitted.`);
  await refreshSessions();
  location.hash = `#/s/${encodeURIComponent(sessionId)}/t/${encodeURIComponent(task.id)}`;
}

function wire() {
  $('key-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void signIn($('api-key').value.trim());
  });
  $('forget-key').addEventListener('click', forgetKey);
  $('refresh-sessions').addEventListener('click', () => void refreshSessions().catch(fail));
  $('more-sessions').addEventListener('click', () => void moreSessions().catch(fail));
  document.querySelector('.new-session').addEventListener('toggle', (e) => {
    if (e.target.open && !$('new-session-id').value) $('new-session-id').value = `s-${Date.now().toString(36)}`;
  });
  $('new-session-form').addEventListener('submit', (e) => {
    e.preventDefault();
    void submitTask($('new-session-id').value.trim(), { prompt: $('new-session-prompt').value })
      .then(() => {
        $('new-session-prompt').value = '';
        $('new-session-id').value = '';
      })
      .catch(fail);
  });
  $('submit-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const body = { prompt: $('submit-prompt').value, mode: $('submit-mode').value.trim() || 'orchestrator', onBusy: $('submit-onbusy').value };
    void submitTask(state.sessionId, body)
      .then(() => ($('submit-prompt').value = ''))
      .catch(fail);
  });
  $('pause-session').addEventListener('click', () => void state.api.pause(state.sessionId).then(() => (notice('Session paused.'), scheduleSession()), fail));
  $('resume-session').addEventListener('click', () => void state.api.resume(state.sessionId).then(() => (notice('Session resumed.'), scheduleSession()), fail));
  $('cancel-task').addEventListener('click', () => {
    if (!state.taskId || !confirm('Cancel this task and all its subtasks?')) return;
    void state.api.cancel(state.taskId).then(() => (notice('Task cancelled.'), scheduleTask(), scheduleSession()), fail);
  });
  window.addEventListener('hashchange', () => void route());
}

wire();
const saved = keyStore.get();
if (saved === null) showLogin();
else void signIn(saved);
