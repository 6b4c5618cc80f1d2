import { EventType, type TaskContext } from '@baton/core';
import type { z } from 'zod';
import { SwitchModeArgsSchema, UpdateTodoListArgsSchema, type Todo } from '../tools/tool-registry';
import type { Mode } from './mode-schema';
import type { ModeRegistry } from './modes';

/**
 * The task state the model changes with switch_mode and update_todo_list.
 * Both are written to the task hash through a running -> running
 * transition, so they are fenced by the runner token (a runner fenced out
 * writes nothing) and emit their event in the same script. Both are
 * idempotent, so a replayed call (crash before its tool result was stored)
 * writes the same again.
 */

/** Stores the todo list on the task and emits task.todos_updated. */
export async function storeTodos(ctx: TaskContext, todos: Todo[]): Promise<void> {
  await ctx.engine.tasks.transition({
    sessionId: ctx.sessionId,
    taskId: ctx.taskId,
    token: ctx.token,
    to: 'running',
    fields: { todos: JSON.stringify(todos) },
    event: { type: EventType.taskTodosUpdated, data: { todos } },
  });
}

export async function updateTodoList(ctx: TaskContext, args: z.output<typeof UpdateTodoListArgsSchema>): Promise<string> {
  await storeTodos(ctx, args.todos);
  const done = args.todos.filter((t) => t.status === 'completed').length;
  return `Todo list updated (${args.todos.length} items, ${done} completed).`;
}

/**
 * Switches the task's mode: the task's `mode` field becomes the new slug
 * (the task's current mode, which the next claim reads), with a
 * task.mode_switched event. Returns the tool result, and the new mode when
 * the switch happened.
 */
export async function switchMode(
  ctx: TaskContext,
  modes: ModeRegistry,
  current: Mode,
  args: z.output<typeof SwitchModeArgsSchema>,
): Promise<{ content: string; mode?: Mode }> {
  const target = modes.get(args.mode_slug);
  if (!target) return { content: `error: unknown mode "${args.mode_slug}". Available modes: ${modes.slugs().join(', ')}.` };
  if (target.slug === current.slug) return { content: `Already in mode ${current.slug}.`, mode: current };
  await ctx.engine.tasks.transition({
    sessionId: ctx.sessionId,
    taskId: ctx.taskId,
    token: ctx.token,
    to: 'running',
    fields: { mode: target.slug },
    event: { type: EventType.taskModeSwitched, data: { from: current.slug, to: target.slug, reason: args.reason } },
  });
  return {
    content: `Switched from mode ${current.slug} to ${target.slug} (${target.name}). Its tools and instructions apply from your next step.`,
    mode: target,
  };
}
