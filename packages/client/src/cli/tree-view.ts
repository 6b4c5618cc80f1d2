import type { TaskStatus, TaskTree } from '../schemas';

/**
 * Pure rendering of a task tree for the terminal: one line per task with its
 * id, mode, status, turns and elapsed time, indented with box-drawing guides.
 *
 *   t_9f2c  orchestrator  waiting    turns 2   14.2s
 *   ├─ t_9f2c.1.0  code   completed  turns 3    6.1s
 *   └─ t_9f2c.2.0  ask    running    turns 1    2.0s
 */
export interface Row {
  id: string;
  prefix: string;
  mode: string;
  status: TaskStatus;
  turns: number;
  elapsedMs: number | null;
}

export function rows(tree: TaskTree, now: number): Row[] {
  const out: Row[] = [];
  const visit = (node: TaskTree, lead: string, branch: string) => {
    out.push({ id: node.id, prefix: branch, mode: node.mode, status: node.status, turns: node.turns, elapsedMs: elapsed(node, now) });
    node.children.forEach((child, i) => {
      const last = i === node.children.length - 1;
      visit(child, lead + (last ? '   ' : '│  '), lead + (last ? '└─ ' : '├─ '));
    });
  };
  visit(tree, '', '');
  return out;
}

/** Time from start (or creation, while queued) to finish (or now). Null before either is known. */
export function elapsed(task: Pick<TaskTree, 'createdAt' | 'startedAt' | 'finishedAt'>, now: number): number | null {
  const from = task.startedAt ?? task.createdAt;
  if (!from) return null;
  const to = task.finishedAt ? Date.parse(task.finishedAt) : now;
  return Math.max(0, to - Date.parse(from));
}

export function formatDuration(ms: number | null): string {
  if (ms === null) return '-';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

const COLORS: Record<TaskStatus, string> = {
  queued: '\x1b[2m',
  running: '\x1b[36m',
  waiting: '\x1b[34m',
  paused: '\x1b[33m',
  awaiting_input: '\x1b[1;33m',
  completed: '\x1b[32m',
  failed: '\x1b[31m',
  cancelled: '\x1b[35m',
};
const RESET = '\x1b[0m';

/** Aligned lines for a tree; `color` adds ANSI colours to the status column. */
export function renderTree(tree: TaskTree, now: number, options: { color?: boolean; width?: number } = {}): string[] {
  const all = rows(tree, now);
  const idWidth = Math.max(...all.map((r) => r.prefix.length + r.id.length));
  const modeWidth = Math.max(...all.map((r) => r.mode.length));
  const turnsWidth = Math.max(...all.map((r) => String(r.turns).length));
  return all.map((r) => {
    const status = r.status.padEnd(9);
    const line = [
      (r.prefix + r.id).padEnd(idWidth),
      r.mode.padEnd(modeWidth),
      options.color ? COLORS[r.status] + status + RESET : status,
      `turns ${String(r.turns).padStart(turnsWidth)}`,
      formatDuration(r.elapsedMs).padStart(7),
    ].join('  ');
    return options.width ? truncate(line, options.width, options.color === true) : line;
  });
}

/** One plain line per task, for logs and pipes. */
export function plainLine(row: Row): string {
  return `${row.id} ${row.mode} ${row.status} turns=${row.turns} elapsed=${formatDuration(row.elapsedMs)}`;
}

/** Cuts a line to the terminal width so a redraw can count its lines (a wrapped line is two). */
function truncate(line: string, width: number, hasAnsi: boolean): string {
  // eslint-disable-next-line no-control-regex -- matching ANSI colour codes is the point
  const visible = hasAnsi ? line.replace(/\x1b\[[0-9;]*m/g, '') : line;
  if (visible.length < width) return line;
  if (!hasAnsi) return line.slice(0, Math.max(0, width - 1));
  // Walk the string, counting visible characters only.
  let out = '';
  let count = 0;
  for (let i = 0; i < line.length && count < width - 1; i++) {
    if (line[i] === '\x1b') {
      const end = line.indexOf('m', i);
      out += line.slice(i, end + 1);
      i = end;
      continue;
    }
    out += line[i];
    count++;
  }
  return out + RESET;
}
