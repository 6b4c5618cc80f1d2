import type { SessionEvent } from '../event-stream';
import { LiveMessages, messageDeltaOf } from '../live-text';
import type { Output } from './watch-view';

/**
 * `--watch`'s live tokens: the text of a streamed turn is written as it
 * arrives (no newline per delta), a tool call as one compact line
 * (`> name {arguments...}` growing in place), and a retried stream restarts
 * after a `[stream interrupted; retrying]` marker. The turn's committed
 * event (`turn.completed`), or any other event of the task, ends the live line.
 */
export class LivePrinter {
  private readonly live = new LiveMessages();
  /** The (task, turn) whose live line is open. */
  private current: { taskId: string; turn: number } | null = null;
  /** The tool call whose compact line is open (its index), or null when text is. */
  private call: number | null = null;

  constructor(
    private readonly out: Output,
    /** Called before a live line starts (the tree view draws afresh below it afterwards). */
    private readonly onStart: () => void = () => undefined,
  ) {}

  /** A live line is open: the view should not redraw over it. */
  get open(): boolean {
    return this.current !== null;
  }

  /** Every event of the stream, in order. */
  event(event: SessionEvent): void {
    const delta = messageDeltaOf(event);
    if (!delta || !event.taskId) {
      if (this.current && (event.taskId === this.current.taskId || event.type === 'reset')) this.end();
      return;
    }
    const change = this.live.apply(event.taskId, delta);
    if (!change) return; // an abandoned try's late piece
    if (this.current && (this.current.taskId !== event.taskId || this.current.turn !== delta.turn)) this.end();
    if (!this.current) {
      this.onStart();
      this.current = { taskId: event.taskId, turn: delta.turn };
    } else if (change.restarted) {
      this.out.write('\n[stream interrupted; retrying]\n');
      this.call = null;
    }
    if (change.text) {
      if (this.call !== null) this.out.write('\n');
      this.call = null;
      this.out.write(change.text);
    }
    for (const piece of change.toolCalls) {
      if (this.call !== piece.index) {
        this.out.write(`\n> ${piece.name ?? `call ${piece.index}`} `);
        this.call = piece.index;
      }
      if (piece.arguments) this.out.write(piece.arguments);
    }
  }

  /** Ends the live line (the turn committed or the watch stops). */
  end(): void {
    if (!this.current) return;
    this.live.end(this.current.taskId, this.current.turn);
    this.current = null;
    this.call = null;
    this.out.write('\n');
  }
}
