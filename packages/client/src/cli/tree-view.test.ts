import type { TaskTree } from '../schemas';
import { elapsed, formatDuration, renderTree } from './tree-view';
import { PlainView, TtyView } from './watch-view';

const T0 = Date.parse('2025-01-01T00:00:00.000Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function node(id: string, over: Partial<TaskTree> = {}): TaskTree {
  return {
    id,
    sessionId: 's',
    parentId: null,
    rootId: 'r',
    mode: 'code',
    prompt: 'p',
    status: 'running',
    result: null,
    error: null,
    childIds: [],
    turns: 0,
    createdAt: iso(0),
    startedAt: iso(1000),
    finishedAt: null,
    children: [],
    ...over,
  };
}

const tree = node('r', {
  mode: 'orchestrator',
  status: 'waiting',
  turns: 2,
  children: [
    node('r.1.0', {
      status: 'completed',
      turns: 3,
      finishedAt: iso(7100),
      children: [node('r.1.0.1.0', { mode: 'ask', status: 'completed', turns: 1, finishedAt: iso(2000) })],
    }),
    node('r.2.0', { mode: 'ask', turns: 1, startedAt: null, status: 'queued' }),
  ],
});

describe('tree view', () => {
  it('renders one aligned line per task with guides, status, turns and elapsed time', () => {
    expect(renderTree(tree, T0 + 15_200)).toEqual([
      'r                orchestrator  waiting    turns 2    14.2s',
      '├─ r.1.0         code          completed  turns 3     6.1s',
      '│  └─ r.1.0.1.0  ask           completed  turns 1     1.0s',
      '└─ r.2.0         ask           queued     turns 1    15.2s',
    ]);
  });

  it('formats durations and measures from start (or creation) to finish (or now)', () => {
    expect([formatDuration(null), formatDuration(950), formatDuration(65_000), formatDuration(3_725_000)]).toEqual(['-', '0.9s', '1m05s', '1h02m']);
    expect(elapsed({ createdAt: null, startedAt: null, finishedAt: null }, T0)).toBeNull();
  });

  it('redraws in place on a terminal: moves up over the lines it drew, clears, and cuts lines to the width', () => {
    const writes: string[] = [];
    const view = new TtyView({ write: (s: string) => writes.push(s), columns: 20 }, { color: true, now: () => T0 + 2000 });
    view.update(node('r'));
    view.update(tree);
    view.tick();
    expect(writes[0]).not.toContain('\x1b[1A');
    expect(writes[1]!.startsWith('\x1b[1A\r\x1b[0J')).toBe(true);
    expect(writes[2]!.startsWith('\x1b[4A\r\x1b[0J')).toBe(true);
    // eslint-disable-next-line no-control-regex -- strip ANSI colour codes to measure visible width
    for (const line of writes[2]!.split('\n')) expect(line.replace(/\x1b\[[0-9;]*[A-Za-z]|\r/g, '').length).toBeLessThan(20);
  });

  it('prints a plain line only when a task changes status or turns', () => {
    const lines: string[] = [];
    const view = new PlainView({ write: (s: string) => lines.push(s) }, () => T0 + 2000);
    view.update(node('r'));
    view.update(node('r'));
    view.update(node('r', { turns: 1 }));
    view.update(node('r', { turns: 1, status: 'completed', finishedAt: iso(1500) }));
    expect(lines).toEqual(['r code running turns=0 elapsed=1.0s\n', 'r code running turns=1 elapsed=1.0s\n', 'r code completed turns=1 elapsed=0.5s\n']);
  });
});
