import { z } from 'zod';
import { ArchivedConversationSchema, type ConversationStore } from '../store/conversation-store';
import type { EventLog } from '../store/event-log';
import type { TaskStore } from '../store/task-store';
import { EventSchema, type BatonEvent } from '../model/event';
import { MessageSchema } from '../model/message';
import { TaskTreeSchema, type TaskTree } from '../model/task';

/**
 * One document with everything a tree holds, so that users can archive it
 * before it expires: the tree, every conversation, and the events of its
 * tasks that the session's stream still holds (oldest first).
 */
export const TreeExportSchema = z.object({
  version: z.literal(1),
  exportedAt: z.iso.datetime(),
  root: TaskTreeSchema,
  /** taskId -> the task's conversation. */
  conversations: z.record(z.string(), z.array(MessageSchema)),
  /** taskId -> the versions of its conversation that condenses replaced, oldest first (only tasks that have any). */
  archivedConversations: z.record(z.string(), z.array(ArchivedConversationSchema)).optional(),
  events: z.array(EventSchema),
});
export type TreeExport = z.infer<typeof TreeExportSchema>;

function flatten(tree: TaskTree, out: string[] = []): string[] {
  out.push(tree.id);
  for (const child of tree.children) flatten(child, out);
  return out;
}

const PAGE = 1000;

/** The export of the tree under `taskId` (a root or a subtask); null when the task does not exist. */
export async function exportTree(engine: { tasks: TaskStore; conversations: ConversationStore; events: EventLog }, taskId: string): Promise<TreeExport | null> {
  const sessionId = await engine.tasks.sessionOf(taskId);
  if (!sessionId) return null;
  const root = await engine.tasks.tree(sessionId, taskId);
  if (!root) return null;
  const ids = flatten(root);
  const conversations = await Promise.all(ids.map((id) => engine.conversations.read(sessionId, id)));
  const archives = await Promise.all(ids.map((id) => engine.conversations.archived(sessionId, id)));
  const archivedConversations = Object.fromEntries(ids.flatMap((id, i) => (archives[i]!.length ? [[id, archives[i]!]] : [])));

  // The stream is bounded (count and age); read it in pages up to the id that was last when
  // the export started, so a busy session cannot keep the loop going.
  const members = new Set(ids);
  const events: BatonEvent[] = [];
  const newest = await engine.events.lastId(sessionId);
  let after = '0';
  for (let done = newest === null; !done;) {
    const page = await engine.events.read(sessionId, after, PAGE);
    for (const e of page) {
      if (e.taskId !== null && members.has(e.taskId)) events.push(e);
      if (e.id === newest) {
        done = true;
        break;
      }
    }
    if (page.length < PAGE) done = true;
    else after = page[page.length - 1]!.id;
  }
  return {
    version: 1,
    exportedAt: new Date().toISOString(),
    root,
    conversations: Object.fromEntries(ids.map((id, i) => [id, conversations[i]!])),
    ...(Object.keys(archivedConversations).length ? { archivedConversations } : {}),
    events,
  };
}
