/* global document, Node */
// DOM building for the console. Text only ever goes in through textContent (no innerHTML):
// prompts, results and tool arguments come from models and users.

/** `h('li', {class: 'x', onclick: fn}, child, 'text')`. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const STATUS_LABELS = {
  queued: 'queued',
  running: 'running',
  waiting: 'waiting for a subtask',
  paused: 'paused',
  awaiting_input: 'needs your input',
  completed: 'completed',
  failed: 'failed',
  cancelled: 'cancelled',
};

export function statusBadge(status) {
  return h('span', { class: `status status-${status}` }, STATUS_LABELS[status] ?? status);
}

export function formatTime(iso) {
  if (!iso) return '';
  const at = new Date(/^\d+$/.test(iso) ? Number(iso) : iso);
  return Number.isNaN(at.getTime()) ? iso : at.toLocaleString();
}

function firstLine(text, max = 80) {
  const line = (text ?? '').split('\n', 1)[0] ?? '';
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The task trees as nested lists; each task is a button that selects it. */
export function renderTrees(roots, selectedId, onSelect) {
  if (roots.length === 0) return h('p', { class: 'empty' }, 'No tasks retained for this session.');
  const node = (task) =>
    h(
      'li',
      { 'data-task-id': task.id, 'data-status': task.status },
      h(
        'button',
        { type: 'button', class: 'task-link', 'aria-current': task.id === selectedId ? 'true' : undefined, onclick: () => onSelect(task.id) },
        h('span', { class: 'mode' }, task.mode),
        ' ',
        statusBadge(task.status),
        ' ',
        h('span', { class: 'prompt' }, firstLine(task.prompt)),
      ),
      task.children && task.children.length > 0 ? h('ul', {}, task.children.map(node)) : null,
    );
  return h('ul', { class: 'tree-root' }, roots.map(node));
}

/** Every task of the trees, depth first. */
export function flatten(roots) {
  const out = [];
  const walk = (t) => {
    out.push(t);
    (t.children ?? []).forEach(walk);
  };
  roots.forEach(walk);
  return out;
}

export function renderTaskMeta(task) {
  const rows = [
    ['Id', h('code', {}, task.id)],
    ['Status', statusBadge(task.status)],
    ['Mode', task.mode],
    ['Turns', String(task.turns)],
    ['Created', formatTime(task.createdAt)],
    task.finishedAt ? ['Finished', formatTime(task.finishedAt)] : null,
    ['Task', h('pre', { class: 'text' }, task.prompt)],
    task.result !== null && task.result !== undefined ? ['Result', h('pre', { class: 'text' }, task.result)] : null,
    task.error ? ['Error', h('pre', { class: 'text error' }, `${task.error.code}: ${task.error.message}`)] : null,
  ].filter(Boolean);
  return rows.flatMap(([term, value]) => [h('dt', {}, term), h('dd', {}, value)]);
}

function prettyArguments(raw) {
  try {
    return JSON.stringify(JSON.parse(raw), null, 2);
  } catch {
    return raw;
  }
}

/** A conversation (OpenAI chat format): tool calls with their arguments, tool results named after their call. */
export function renderConversation(messages) {
  if (messages.length === 0) return [h('li', { class: 'empty' }, 'No messages yet.')];
  const callNames = new Map();
  for (const m of messages) for (const call of m.tool_calls ?? []) callNames.set(call.id, call.function.name);
  return messages.map((m) => {
    if (m.role === 'system' && !m.content && m.ref) {
      // Agent conversations store a reference: the worker rebuilds the prompt for every request.
      return h(
        'li',
        { class: 'msg msg-system' },
        h('p', { class: 'role' }, 'System prompt ', h('code', {}, m.ref), ' (rebuilt from the mode for every request)'),
      );
    }
    if (m.role === 'system') {
      return h('li', { class: 'msg msg-system' }, h('details', {}, h('summary', {}, 'System prompt'), h('pre', { class: 'text' }, m.content)));
    }
    if (m.role === 'tool') {
      const name = callNames.get(m.tool_call_id) ?? 'tool';
      return h(
        'li',
        { class: 'msg msg-tool' },
        h('p', { class: 'role' }, `Result of ${name} `, h('code', {}, m.tool_call_id)),
        h('pre', { class: 'text' }, m.content),
      );
    }
    const calls = (m.tool_calls ?? []).map((call) =>
      h(
        'div',
        { class: 'tool-call' },
        h('p', { class: 'role' }, 'Tool call: ', h('strong', {}, call.function.name), ' ', h('code', {}, call.id)),
        h('pre', { class: 'text args' }, prettyArguments(call.function.arguments)),
      ),
    );
    return h(
      'li',
      { class: `msg msg-${m.role}` },
      h('p', { class: 'role' }, m.role === 'user' ? 'User' : 'Assistant'),
      m.content ? h('pre', { class: 'text' }, m.content) : null,
      calls,
    );
  });
}

/**
 * The pending question or approval of a task (`pendingInput` of GET /v1/tasks/{id}).
 * `send(body)` posts `{answer}` or `{approved, feedback?}`.
 */
export function renderPending(pending, send) {
  if (pending.kind === 'question') {
    const answer = h('textarea', { id: 'answer-text', name: 'answer', rows: '3', required: true });
    const form = h(
      'form',
      {
        class: 'answer-form',
        onsubmit: (e) => {
          e.preventDefault();
          if (answer.value.trim()) send({ answer: answer.value });
        },
      },
      h('label', { for: 'answer-text' }, 'Your answer'),
      answer,
      h('button', { type: 'submit' }, 'Send answer'),
    );
    const suggestions = (pending.followUp ?? []).map((text) =>
      h('li', {}, h('button', { type: 'button', class: 'suggestion', onclick: () => send({ answer: text }) }, text)),
    );
    return [
      h('p', { class: 'meta' }, `Asked ${formatTime(pending.askedAt)}`),
      h('pre', { class: 'text question' }, pending.question),
      suggestions.length ? h('div', {}, h('p', {}, 'Suggested answers:'), h('ul', { class: 'suggestions' }, suggestions)) : null,
      form,
    ];
  }
  if (pending.kind === 'approval') {
    const feedback = h('textarea', { id: 'approval-feedback', name: 'feedback', rows: '2' });
    const body = (approved) => (feedback.value.trim() ? { approved, feedback: feedback.value } : { approved });
    let args = pending.arguments;
    if (typeof args !== 'string') args = JSON.stringify(args, null, 2);
    else args = prettyArguments(args);
    return [
      h('p', { class: 'meta' }, `Asked ${formatTime(pending.askedAt)}`),
      h('p', {}, 'The agent wants to run ', h('strong', { class: 'approval-tool' }, pending.tool), ' with:'),
      h('pre', { class: 'text args' }, args),
      h('label', { for: 'approval-feedback' }, 'Feedback for the agent (optional)'),
      feedback,
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', class: 'approve', onclick: () => send(body(true)) }, 'Approve'),
        h('button', { type: 'button', class: 'deny', onclick: () => send(body(false)) }, 'Deny'),
      ),
    ];
  }
  return [h('p', {}, `Unknown input request: ${JSON.stringify(pending)}`)];
}
