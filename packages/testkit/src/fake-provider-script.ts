/**
 * The fake provider's default behaviour, driven only by the conversation it
 * receives (so it is deterministic and replay-safe), plus builders for
 * OpenAI chat-completion bodies that tests use in their own policies.
 *
 * Scripted behaviour:
 * - the request offers a `new_task` tool and no workspace tool (`read_file`): an
 *   orchestrator (every mode may offer `new_task`, only the orchestrator
 *   has nothing else to work with): it reads the
 *   first user message for a step count (`steps=N`, `N steps` or
 *   `N subtasks`; none: 0), a child mode (`childMode=<mode>`, default `code`)
 *   and a child prompt (the text after the first `::`, default the whole
 *   prompt; so `a steps=1 childMode=orchestrator :: b steps=1` nests).
 *   It spawns one `new_task` per step, one per response, then answers
 *   `attempt_completion` with a summary of the tool results it got;
 * - the request offers `attempt_completion` only: it completes at once with
 *   `done: <prompt>`;
 * - no tools: a plain text answer.
 *
 * Streamed requests (`stream: true`) get the same answers as event streams
 * (fake-stream.ts). A prompt containing `cutStream=K` (or `cutStream=KxN`,
 * optionally followed by `:error` or `:hang`) has the stream cut after K
 * frames in the first N attempts (default 1) of its Idempotency-Key, so an
 * end-to-end test can script a cut through the prompt alone (see `streamCutOf`).
 */
import type { FakeStreamCut } from './fake-stream';

export interface FakeToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
  tool_calls?: FakeToolCall[];
  tool_call_id?: string;
}

export interface ChatRequestBody {
  model?: string;
  messages?: ChatMessage[];
  tools?: { type: string; function: { name: string; description?: string; parameters?: unknown } }[];
}

let completionSeq = 0;

/** An OpenAI `chat.completion` body. */
export function chatCompletion(message: { content?: string | null; toolCalls?: FakeToolCall[] }, model = 'fake-model'): Record<string, unknown> {
  const toolCalls = message.toolCalls ?? [];
  return {
    id: `chatcmpl-fake-${++completionSeq}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: message.content ?? null,
          ...(toolCalls.length ? { tool_calls: toolCalls } : {}),
        },
        finish_reason: toolCalls.length ? 'tool_calls' : 'stop',
      },
    ],
    usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  };
}

/** A function tool call; `args` objects are JSON-encoded, strings are sent verbatim (malformed tests). */
export function toolCall(id: string, name: string, args: unknown): FakeToolCall {
  return { id, type: 'function', function: { name, arguments: typeof args === 'string' ? args : JSON.stringify(args) } };
}

function stepCount(prompt: string): number {
  const m = /steps=(\d+)/.exec(prompt) ?? /(\d+)\s+(?:steps?|subtasks?)\b/i.exec(prompt);
  return m ? Math.min(Number(m[1]), 100) : 0;
}

/** The scripted answer to a request (see the file header). */
export function scriptedReply(body: ChatRequestBody, model = body.model ?? 'fake-model'): Record<string, unknown> {
  const messages = body.messages ?? [];
  const tools = new Set((body.tools ?? []).map((t) => t.function.name));
  const prompt = messages.find((m) => m.role === 'user')?.content ?? '';
  const assistants = messages.filter((m) => m.role === 'assistant');
  const callId = (i: number) => `call_${assistants.length + 1}_${i}`;

  // Every mode is offered new_task: only the orchestrator (the worker's `Current mode:` prompt line), or a mode without that line, delegates.
  const current = /^Current mode: ([A-Za-z0-9_-]+)/m.exec(String(messages.find((m) => m.role === 'system')?.content ?? ''))?.[1];
  if (tools.has('new_task') && (current === undefined || current === 'orchestrator')) {
    const steps = stepCount(prompt);
    const spawned = assistants.filter((m) => m.tool_calls?.some((c) => c.function.name === 'new_task')).length;
    if (spawned < steps) {
      const mode = /childMode=([A-Za-z0-9_-]+)/.exec(prompt)?.[1] ?? 'code';
      const sep = prompt.indexOf('::');
      const childPrompt = sep >= 0 ? prompt.slice(sep + 2).trim() : prompt;
      const message = `Step ${spawned + 1} of ${steps}: ${childPrompt}`;
      return chatCompletion({ toolCalls: [toolCall(callId(0), 'new_task', { mode, message })] }, model);
    }
    const results = messages.filter((m) => m.role === 'tool').map((m) => m.content ?? '');
    const summary = `Completed ${steps} step(s)${results.length ? `: ${results.join(' | ')}` : ''}`;
    return chatCompletion({ toolCalls: [toolCall(callId(0), 'attempt_completion', { result: summary })] }, model);
  }
  if (tools.has('attempt_completion')) {
    return chatCompletion({ toolCalls: [toolCall(callId(0), 'attempt_completion', { result: `done: ${prompt}` })] }, model);
  }
  return chatCompletion({ content: `echo: ${prompt}` }, model);
}

/** The scripted stream cut for a request's `attempt` (0-based), from its prompt's `cutStream=K[xN][:how]`; none: undefined. */
export function streamCutOf(body: ChatRequestBody, attempt: number): FakeStreamCut | undefined {
  const prompt = body.messages?.find((m) => m.role === 'user')?.content ?? '';
  const m = /cutStream=(\d+)(?:x(\d+))?(?::(close|error|hang))?/.exec(prompt);
  if (!m) return undefined;
  const attempts = m[2] === undefined ? 1 : Number(m[2]);
  if (attempt >= attempts) return undefined;
  return { afterChunks: Number(m[1]), how: (m[3] as FakeStreamCut['how']) ?? 'close' };
}
