import { TaskSchema, type Task, type TaskStatus } from '../model/task';
import { budgetOf, costOf, usageOf } from '../model/usage';

/** Task hash fields as stored in Redis (all strings; '' means null). */
export type TaskHash = Record<string, string>;

const iso = (ms: string | undefined): string | null => (ms === undefined || ms === '' ? null : new Date(Number(ms)).toISOString());
const orNull = (s: string | undefined): string | null => (s === undefined || s === '' ? null : s);

/** Decodes a task hash (plus its children list) into the public Task shape. */
export function decodeTask(hash: TaskHash, childIds: string[]): Task {
  const errorCode = orNull(hash.errorCode);
  return TaskSchema.parse({
    id: hash.id,
    sessionId: hash.sessionId,
    parentId: orNull(hash.parentId),
    rootId: hash.rootId,
    tenant: hash.tenant ?? 'default',
    mode: hash.mode,
    prompt: hash.prompt,
    status: hash.status as TaskStatus,
    result: hash.result ?? null,
    error: errorCode ? { code: errorCode, message: hash.errorMessage ?? '' } : null,
    childIds,
    turns: Number(hash.turns ?? 0),
    metadata: hash.metadata ? (JSON.parse(hash.metadata) as unknown) : null,
    createdAt: iso(hash.createdAt),
    startedAt: iso(hash.startedAt),
    finishedAt: iso(hash.finishedAt),
    pendingInput: pendingInputOf(hash),
    ...(hash.todos ? { todos: JSON.parse(hash.todos) as unknown } : {}),
    usage: usageOf(hash, 'u:'),
    cost: costOf(hash, 'u:'),
    // Tree totals live on the root (record-usage-6.lua), with the tree's budget.
    ...(hash.id === hash.rootId
      ? { treeUsage: usageOf(hash, 'tu:'), treeCost: costOf(hash, 'tu:'), budget: budgetOf(hash), onBudget: hash.onBudget || 'fail' }
      : {}),
  });
}

/**
 * `pendingInput` is stored as the request's JSON (field `pendingInput`, '' once
 * answered) next to the tool call it belongs to and when it was asked (fields
 * `inputCall`, `inputAskedAt`, which the scripts read: see ask-input-2.lua).
 */
function pendingInputOf(hash: TaskHash): unknown {
  if (!hash.pendingInput) return null;
  return { ...(JSON.parse(hash.pendingInput) as object), askedAt: iso(hash.inputAskedAt) ?? '', toolCallId: hash.inputCall ?? '' };
}

/** Fields written when a task is created (status and times are set by the script). */
export interface NewTaskFields {
  id: string;
  sessionId: string;
  parentId: string;
  rootId: string;
  tenant: string;
  mode: string;
  prompt: string;
  metadata?: string;
  /** Tree budget, on a root (budgetFields). */
  bTokens?: string;
  bCost?: string;
  bTurns?: string;
  onBudget?: string;
}
