import type { Message } from '@baton/core';
import type { ModelCallContext, ModelProvider, ModelRequest, ModelResponse } from './model-provider';
import { abortableSleep } from './retry-policy';

/**
 * The built-in deterministic model used when no LLM_BASE_URL is set, so that
 * Baton runs end to end without keys. Its answer depends only on the
 * conversation (replays agree with the original):
 * - in the orchestrator mode (the system prompt's `Current mode: orchestrator`;
 *   for a mode of the older format: offered `new_task`): splits the prompt into steps
 *   (sentences, lines, "then"; a single sentence becomes plan / implement /
 *   review), spawns one subtask per step, one at a time, then completes
 *   with a summary of the results;
 * - a "tour" (prompt `tour <path>: <text>`, in a mode with new_task, read_file
 *   and ask_followup_question, e.g. code): shows every part of the agent in
 *   four turns: delegates "Write <path> with: <text>" to a code subtask, reads
 *   the file back, asks the user whether to finish (the task waits, durably,
 *   for the answer), then completes with the file's content and the answer;
 * - a task `Write <path> with: <text>` offered write_to_file: writes the file,
 *   then completes;
 * - offered `attempt_completion`: completes at once, naming what it did;
 * - otherwise: answers with text.
 * It still runs inside the request gate like any provider.
 */
export class DemoModel implements ModelProvider {
  readonly name = 'demo';

  constructor(private readonly latencyMs = 0) {}

  async complete(request: ModelRequest, context: ModelCallContext): Promise<ModelResponse> {
    if (this.latencyMs > 0) await abortableSleep(this.latencyMs, context.signal);
    const message = demoAnswer(request.messages, new Set(request.tools.map((t) => t.function.name)));
    return { message, model: 'baton-demo', attempts: 1, finishReason: message.tool_calls?.length ? 'tool_calls' : 'stop' };
  }
}

interface Step {
  mode: string;
  message: string;
}

/** Splits a prompt into a few steps (at most 4). */
export function demoSteps(prompt: string): Step[] {
  const pieces = prompt
    .split(/(?:[.;!?]\s+|\n+|\s+then\s+)/i)
    .map((p) => p.trim().replace(/[.;!?]+$/, ''))
    .filter((p) => p.length > 0);
  if (pieces.length >= 2) return pieces.slice(0, 4).map((message) => ({ mode: 'code', message }));
  const topic = pieces[0] ?? prompt.trim();
  return [
    { mode: 'architect', message: `Plan: ${topic}` },
    { mode: 'code', message: `Implement: ${topic}` },
    { mode: 'debug', message: `Review and test: ${topic}` },
  ];
}

function call(turn: number, name: string, args: unknown) {
  return { id: `call_${turn}_0`, type: 'function' as const, function: { name, arguments: JSON.stringify(args) } };
}

const TOUR = /^tour ([^\s:]+):\s*([\s\S]+)$/;
const WRITE = /^Write ([^\s:]+) with:\s*([\s\S]*)$/;

/** The four turns of a tour (see the file header); undefined once it is over or when the mode lacks a tool. */
function tourAnswer(path: string, text: string, messages: readonly Message[], tools: ReadonlySet<string>, turn: number): ModelResponse['message'] | undefined {
  if (!['new_task', 'read_file', 'ask_followup_question', 'attempt_completion'].every((t) => tools.has(t))) return undefined;
  const results = messages.flatMap((m) => (m.role === 'tool' ? [m.content] : []));
  switch (turn) {
    case 1:
      return {
        role: 'assistant',
        content: `Delegating the file to a code subtask.`,
        tool_calls: [call(turn, 'new_task', { mode: 'code', message: `Write ${path} with: ${text}` })],
      };
    case 2:
      return { role: 'assistant', content: `Reading ${path} back.`, tool_calls: [call(turn, 'read_file', { path })] };
    case 3:
      return {
        role: 'assistant',
        content: null,
        tool_calls: [
          call(turn, 'ask_followup_question', {
            question: `I read ${path} back (${results[1]?.split('\n').length ?? 0} lines). Shall I finish?`,
            follow_up: ['Yes, finish', 'No, stop here'],
          }),
        ],
      };
    case 4:
      return {
        role: 'assistant',
        content: null,
        tool_calls: [call(turn, 'attempt_completion', { result: `${path}:\n${results[1] ?? ''}\nYou answered: ${results[2] ?? ''}` })],
      };
    default:
      return undefined;
  }
}

export function demoAnswer(messages: readonly Message[], tools: ReadonlySet<string>): ModelResponse['message'] {
  const prompt = messages.find((m) => m.role === 'user')?.content ?? '';
  const assistants = messages.filter((m) => m.role === 'assistant');
  const turn = assistants.length + 1;
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  const current = /^Current mode: ([A-Za-z0-9_-]+)/m.exec(system)?.[1];
  const tour = TOUR.exec(prompt.trim());
  if (tour && current !== 'orchestrator') {
    const answer = tourAnswer(tour[1]!, tour[2]!.trim(), messages, tools, turn);
    if (answer) return answer;
  }
  const write = WRITE.exec(prompt.trim());
  if (write && tools.has('write_to_file') && tools.has('attempt_completion')) {
    if (turn === 1) return { role: 'assistant', content: null, tool_calls: [call(turn, 'write_to_file', { path: write[1], content: `${write[2]}\n` })] };
    const results = messages.flatMap((m) => (m.role === 'tool' ? [m.content] : []));
    return { role: 'assistant', content: null, tool_calls: [call(turn, 'attempt_completion', { result: `${write[1]}: ${results[0] ?? ''}` })] };
  }
  // Every mode may call new_task now: only the orchestrator (or an older-format mode offered new_task) delegates.
  if (tools.has('new_task') && (current === undefined || current === 'orchestrator')) {
    const steps = demoSteps(prompt);
    const spawned = assistants.filter((m) => m.role === 'assistant' && m.tool_calls?.some((c) => c.function.name === 'new_task')).length;
    const next = steps[spawned];
    if (next) {
      return { role: 'assistant', content: `Step ${spawned + 1} of ${steps.length}: delegating to ${next.mode}.`, tool_calls: [call(turn, 'new_task', next)] };
    }
    const results = messages.flatMap((m) => (m.role === 'tool' ? [m.content] : []));
    const summary = [`Finished "${prompt}" in ${steps.length} steps:`, ...results.map((r, i) => `${i + 1}. ${r}`)].join('\n');
    return { role: 'assistant', content: null, tool_calls: [call(turn, 'attempt_completion', { result: summary })] };
  }
  const byMode: Record<string, string> = { code: 'implemented', architect: 'planned', debug: 'reviewed' };
  const role = current
    ? (byMode[current] ?? 'handled')
    : /software engineer/.test(system)
      ? 'implemented'
      : /design/.test(system)
        ? 'planned'
        : /root cause/.test(system)
          ? 'reviewed'
          : 'handled';
  const result = `(demo) ${role}: ${prompt}`;
  if (tools.has('attempt_completion')) return { role: 'assistant', content: null, tool_calls: [call(turn, 'attempt_completion', { result })] };
  return { role: 'assistant', content: result };
}
