/**
 * Waiting on Baton from outside: on the session's event stream (SSE) where a
 * precise instant matters, and on durable state read over HTTP for bulk
 * "everything has ended" checks of black-box processes.
 */
import { isFinal, type BatonClient, type SessionEvent, type Task, type TaskStatus } from '@baton/client';
import { waitUntil } from '@baton/testkit';

/** Resolves with the first event of the session (replayed from the oldest, then live) that matches. */
export async function waitForEvent(client: BatonClient, sessionId: string, match: (e: SessionEvent) => boolean, timeoutMs = 60_000): Promise<SessionEvent> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error(`no matching event in session ${sessionId} within ${timeoutMs} ms`)), timeoutMs);
  try {
    for await (const event of client.events(sessionId, { signal: controller.signal, reconnectDelayMs: 100 })) {
      if (match(event)) return event;
    }
    throw new Error('event stream ended');
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** The event of a task reaching `status` (`task.completed`, `task.cancelled`, ...). */
export function taskEvent(taskId: string, type: string): (e: SessionEvent) => boolean {
  return (e) => e.taskId === taskId && e.type === type;
}

/** Re-reads the tasks until each is in a final state (or in one of `statuses`). */
export async function waitForStatus(client: BatonClient, taskIds: string[], statuses?: TaskStatus[], timeoutMs = 90_000): Promise<Task[]> {
  const done = new Map<string, Task>();
  await waitUntil(
    async () => {
      for (const id of taskIds) {
        if (done.has(id)) continue;
        const task = await client.getTask(id);
        if (statuses ? statuses.includes(task.status) : isFinal(task.status)) done.set(id, task);
        else return false;
      }
      return true;
    },
    timeoutMs,
    50,
  );
  return taskIds.map((id) => done.get(id)!);
}
