import type { StreamReset } from '../event-stream';
import type { TaskTree } from '../schemas';
import { plainLine, renderTree, rows } from './tree-view';

/** Where `baton watch` shows the tree: redrawn in place on a terminal, as change lines in a pipe. */
export interface WatchView {
  /** A new tree from the server. */
  update(tree: TaskTree): void;
  /** Time passed (elapsed columns move); nothing new from the server. */
  tick(): void;
  /** Interval at which tick() is worth calling, or null if never. */
  readonly tickMs: number | null;
  /** The server trimmed events the watch had not read: forget what was shown; a fresh tree follows. */
  reset?(info: StreamReset): void;
  /** Something else is written below the view (a prompt): the next update draws afresh under it. */
  release?(): void;
}

export interface Output {
  write(text: string | Uint8Array): unknown;
  columns?: number;
}

/**
 * Terminal view: rewrites its own block of lines. It moves the cursor up by
 * the number of lines it drew last time and clears to the end of the screen;
 * lines are cut to the terminal width so that count stays right.
 */
export class TtyView implements WatchView {
  readonly tickMs = 1000;
  private drawn = 0;
  private tree: TaskTree | null = null;

  constructor(
    private readonly out: Output,
    private readonly options: { color: boolean; now?: () => number },
  ) {}

  update(tree: TaskTree): void {
    this.tree = tree;
    this.draw();
  }

  tick(): void {
    if (this.tree) this.draw();
  }

  release(): void {
    this.drawn = 0;
  }

  private draw(): void {
    const now = this.options.now?.() ?? Date.now();
    const lines = renderTree(this.tree!, now, { color: this.options.color, width: this.out.columns ?? 120 });
    const up = this.drawn > 0 ? `\x1b[${this.drawn}A\r\x1b[0J` : '';
    this.out.write(up + lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}

/** Pipe/log view: prints a line for each task whose status or turns changed since the last update. */
export class PlainView implements WatchView {
  readonly tickMs = null;
  private seen = new Map<string, string>();

  constructor(
    private readonly out: Output,
    private readonly now: () => number = Date.now,
  ) {}

  /** Says so, and prints every task again with the reloaded tree. */
  reset(info: StreamReset): void {
    this.out.write(`events after ${info.lastEventId} are no longer kept by the server: reloading the tree\n`);
    this.seen.clear();
  }

  update(tree: TaskTree): void {
    for (const row of rows(tree, this.now())) {
      const state = `${row.status}/${row.turns}`;
      if (this.seen.get(row.id) === state) continue;
      this.seen.set(row.id, state);
      this.out.write(plainLine(row) + '\n');
    }
  }

  tick(): void {}
}
