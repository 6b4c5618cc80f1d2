/**
 * A deterministic task handler for the engine's own tests (not an LLM):
 * the task prompt is a JSON plan — subtasks to run one at a time, then
 * complete, fail, or hold on a test-controlled deferred. It replays from the
 * conversation exactly as the real agent loop must, so parks, crashes and
 * re-runs are exercised for real.
 */
import type { ChildOutcome } from '../model/task';
import type { Message } from '../model/message';
import type { TaskHandler } from '../runtime/task-worker';
import type { TaskContext } from '../runtime/task-context';
import { TaskFailure } from '../runtime/signals';

export interface Plan {
  name?: string;
  children?: Plan[];
  fail?: string;
  /** Name of a hold: the handler awaits `hooks.hold(name)` before finishing. */
  hold?: string;
  result?: string;
}

export interface PlanHooks {
  /** Every handler invocation (first run and each resume). */
  onRun?(ctx: TaskContext): void;
  /** Inside the gate, as the "model call" of a turn; may hold it. */
  onCall?(ctx: TaskContext, turn: number, signal: AbortSignal): Promise<string | void> | string | void;
  hold?(name: string, ctx: TaskContext): Promise<void>;
}

export const plan = (p: Plan): string => JSON.stringify(p);

export function describeOutcome(o: ChildOutcome): string {
  if (o.status === 'completed') return `completed: ${o.result}`;
  if (o.status === 'failed') return `failed: ${o.error.message}`;
  return 'cancelled';
}

export function planHandler(hooks: PlanHooks = {}): TaskHandler {
  return async (ctx) => {
    hooks.onRun?.(ctx);
    const p = JSON.parse(ctx.task.prompt) as Plan;
    let messages: Message[] = await ctx.messages();
    if (messages.length === 0) {
      await ctx.append(0, [{ role: 'user', content: ctx.task.prompt }]);
      messages = await ctx.messages();
    }
    const children = p.children ?? [];
    const outcomes: string[] = [];
    for (let i = 0; i < children.length; i++) {
      const turn = i + 1;
      const callId = `call_${turn}`;
      const assistantAt = 1 + 2 * i;
      if (messages.length === assistantAt) {
        await ctx.checkpoint(turn);
        const { response } = await ctx.gate(turn, async (signal) => {
          const content = await hooks.onCall?.(ctx, turn, signal);
          const msg: Message = {
            role: 'assistant',
            content: content ?? null,
            tool_calls: [{ id: callId, type: 'function', function: { name: 'new_task', arguments: JSON.stringify({ i }) } }],
          };
          return msg;
        });
        await ctx.append(assistantAt, [response]);
        messages = await ctx.messages();
      }
      if (messages.length === assistantAt + 1) {
        const outcome = await ctx.subtask({ key: `${turn}.0`, mode: 'test', prompt: JSON.stringify(children[i]) });
        await ctx.append(assistantAt + 1, [{ role: 'tool', tool_call_id: callId, content: describeOutcome(outcome) }]);
        messages = await ctx.messages();
      }
      const tool = messages[assistantAt + 1];
      outcomes.push(tool && tool.role === 'tool' ? tool.content : '?');
    }
    if (p.hold) await hooks.hold?.(p.hold, ctx);
    if (p.fail) throw new TaskFailure('PLANNED_FAILURE', p.fail);
    return { status: 'completed', result: p.result ?? (outcomes.length ? outcomes.join(' | ') : (p.name ?? 'done')) };
  };
}
