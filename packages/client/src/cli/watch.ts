import type { BatonClient } from '../baton-client';
import { isResetEvent, type SessionEvent } from '../event-stream';
import { MESSAGE_DELTA } from '../live-text';
import { isFinal, type TaskTree } from '../schemas';
import type { WatchView } from './watch-view';

export interface WatchOptions {
  signal?: AbortSignal;
  /**
   * Called for each task of the tree that is `awaiting_input`, after the view
   * showed it; resolves true when it delivered a response (the tree is then
   * fetched again). The watch waits for it: nothing redraws over a prompt.
   */
  onAwaitingInput?: (task: TaskTree) => Promise<boolean>;
  /**
   * Gets every event, in order (the CLI's LivePrinter prints streamed tokens). While
   * `open` (a live line is being written) the view's ticks are skipped, so no
   * redraw lands in the middle of it.
   */
  live?: { event(event: SessionEvent): void; readonly open: boolean; end(): void };
}

function flatten(tree: TaskTree): TaskTree[] {
  return [tree, ...tree.children.flatMap(flatten)];
}

/**
 * Follows a task's tree until its root is terminal, from the session's event
 * stream: every event marks the tree stale and the tree is re-fetched (one
 * fetch at a time; events that arrive meanwhile coalesce into the next one).
 *
 * No missed ending: the tree is fetched again once the stream is open
 * (onOpen marks it stale), so a task that ends after that fetch ends
 * with an event the stream delivers; a task that ended before it is seen
 * terminal by the fetch itself. After a reconnect the stream resumes with
 * Last-Event-ID and onOpen refetches too. A `reset` event (the server
 * trimmed events this watch had not read) makes the view start over and the
 * tree is fetched again, like any event.
 */
export async function watchTask(client: BatonClient, taskId: string, view: WatchView, options: WatchOptions = {}): Promise<TaskTree> {
  const task = await client.getTask(taskId, options);
  let tree: TaskTree | null = null;
  // Fetch at once (something to show), and again when the stream opens (nothing missed).
  let stale = true;
  let streamError: unknown = null;
  let wake: () => void = () => undefined;
  const markStale = () => {
    stale = true;
    wake();
  };

  const stop = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
  const pump = (async () => {
    for await (const event of client.events(task.sessionId, { signal, onOpen: markStale })) {
      options.live?.event(event);
      // A live piece of a model response changes nothing in the tree: no refetch per delta.
      if (event.type === MESSAGE_DELTA) continue;
      // Events were trimmed before we read them: what the view knows may be stale in ways no later
      // event repairs, so it starts over from the tree fetched next.
      if (isResetEvent(event)) view.reset?.(event.reset);
      markStale();
    }
  })().catch((err: unknown) => {
    streamError = err;
    wake();
  });

  try {
    for (;;) {
      if (streamError) throw streamError;
      options.signal?.throwIfAborted();
      if (stale) {
        stale = false;
        tree = await client.getTree(taskId, options);
        view.update(tree);
        if (isFinal(tree.status)) return tree;
        if (options.onAwaitingInput) {
          for (const node of flatten(tree).filter((t) => t.status === 'awaiting_input')) {
            if (await options.onAwaitingInput(node)) stale = true;
          }
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        const timer = view.tickMs === null ? null : setTimeout(() => done(true), view.tickMs);
        const onAbort = () => done(false);
        function done(ticked: boolean) {
          if (timer) clearTimeout(timer);
          options.signal?.removeEventListener('abort', onAbort);
          wake = () => undefined;
          if (ticked && !options.live?.open) view.tick();
          resolve();
        }
        options.signal?.addEventListener('abort', onAbort, { once: true });
        wake = () => done(false);
      });
    }
  } finally {
    stop.abort();
    await pump;
    options.live?.end();
  }
}
