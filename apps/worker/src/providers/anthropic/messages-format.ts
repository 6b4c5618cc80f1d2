import type { AssistantMessage, Message } from '@baton/core';
import { z } from 'zod';
import type { OpenAiTool } from '../../tools/tool-registry';

/**
 * Conversions between Baton's stored conversation (OpenAI chat form, the one
 * provider-neutral form kept in Redis and served by the API) and Anthropic's
 * Messages API. Pure functions: the provider client calls them, tests pin them.
 *
 * Request mapping:
 * - `system` messages become the top-level `system` field (text blocks);
 * - an assistant message becomes text + `tool_use` blocks (arguments parsed
 *   from their JSON string; a malformed string, which Baton answers with a
 *   tool error, is sent as `{ "_raw": "<text>" }` so the history stays valid);
 * - `tool` messages become `tool_result` blocks of a user turn;
 * - consecutive turns of one role are merged: the API requires user and
 *   assistant turns to alternate, and tool results followed by a user nudge
 *   form one user turn;
 * - prompt caching: `cache_control: {type: "ephemeral"}` on the system prompt,
 *   on the last tool (the tool list is the stable prefix) and on the last block
 *   of the conversation, so each turn reads the previous turn's prefix from
 *   the cache (3 of the 4 breakpoints the API allows).
 */

export interface CacheControl {
  type: 'ephemeral';
}
export type TextBlock = { type: 'text'; text: string; cache_control?: CacheControl };
export type ToolUseBlock = { type: 'tool_use'; id: string; name: string; input: Record<string, unknown>; cache_control?: CacheControl };
export type ToolResultBlock = { type: 'tool_result'; tool_use_id: string; content: string; cache_control?: CacheControl };
export type ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock;

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: ContentBlock[];
}

export interface AnthropicTool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
  cache_control?: CacheControl;
}

export interface AnthropicRequest {
  model: string;
  max_tokens: number;
  system?: TextBlock[];
  messages: AnthropicMessage[];
  tools?: AnthropicTool[];
}

export interface ToAnthropicOptions {
  maxTokens: number;
  /** Adds the cache breakpoints (default true). */
  cache?: boolean;
}

const EPHEMERAL: CacheControl = { type: 'ephemeral' };
/** Stands in for an assistant message without text or calls: the API refuses empty text blocks. */
export const EMPTY_TURN = '(no content)';

/** A tool call's JSON arguments as the object a `tool_use` input must be; anything else is kept as `{_raw}`. */
export function toolInput(args: string): Record<string, unknown> {
  if (args.trim() === '') return {};
  try {
    const value: unknown = JSON.parse(args);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through: kept verbatim below
  }
  return { _raw: args };
}

/** The Messages API request for a conversation in OpenAI chat form. */
export function toAnthropicRequest(
  request: { model: string; messages: readonly Message[]; tools: readonly OpenAiTool[] },
  options: ToAnthropicOptions,
): AnthropicRequest {
  const cache = options.cache ?? true;
  const system: TextBlock[] = [];
  const messages: AnthropicMessage[] = [];
  const push = (role: AnthropicMessage['role'], blocks: ContentBlock[]) => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    if (last?.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };

  for (const m of request.messages) {
    switch (m.role) {
      case 'system':
        if (m.content) system.push({ type: 'text', text: m.content });
        break;
      case 'user':
        push('user', [{ type: 'text', text: m.content }]);
        break;
      case 'tool':
        push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: m.content }]);
        break;
      case 'assistant': {
        const blocks: ContentBlock[] = [];
        if (m.content) blocks.push({ type: 'text', text: m.content });
        for (const call of m.tool_calls ?? []) {
          blocks.push({ type: 'tool_use', id: call.id, name: call.function.name, input: toolInput(call.function.arguments) });
        }
        // An assistant message with neither text nor calls still takes its turn (the API refuses empty text).
        push('assistant', blocks.length ? blocks : [{ type: 'text', text: EMPTY_TURN }]);
        break;
      }
    }
  }

  const tools: AnthropicTool[] = request.tools.map((t) => ({
    name: t.function.name,
    description: t.function.description,
    input_schema: t.function.parameters,
  }));
  if (cache) {
    const lastSystem = system[system.length - 1];
    if (lastSystem) lastSystem.cache_control = EPHEMERAL;
    const lastTool = tools[tools.length - 1];
    if (lastTool) lastTool.cache_control = EPHEMERAL;
    const lastMessage = messages[messages.length - 1];
    const lastBlock = lastMessage?.content[lastMessage.content.length - 1];
    if (lastBlock) lastBlock.cache_control = EPHEMERAL;
  }
  return {
    model: request.model,
    max_tokens: options.maxTokens,
    ...(system.length ? { system } : {}),
    messages,
    ...(tools.length ? { tools } : {}),
  };
}

/** The part of a Messages API response Baton reads; other fields and block types are ignored. */
export const AnthropicResponseSchema = z.object({
  model: z.string().optional(),
  content: z.array(
    z.union([
      z.object({ type: z.literal('text'), text: z.string() }),
      z.object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown() }),
      z.object({ type: z.string() }).loose(),
    ]),
  ),
  stop_reason: z.string().nullish(),
  usage: z
    .object({
      input_tokens: z.number().optional(),
      output_tokens: z.number().optional(),
      cache_read_input_tokens: z.number().nullish(),
      cache_creation_input_tokens: z.number().nullish(),
    })
    .nullish(),
});
export type AnthropicResponse = z.infer<typeof AnthropicResponseSchema>;

/** OpenAI's names for Anthropic's stop reasons (`tool_use` -> `tool_calls`, `max_tokens` -> `length`). */
export function finishReasonOf(stopReason: string | null | undefined): 'stop' | 'tool_calls' | 'length' | 'content_filter' {
  switch (stopReason) {
    case 'tool_use':
      return 'tool_calls';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'refusal':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export interface ConvertedResponse {
  message: AssistantMessage;
  model: string | undefined;
  finishReason: ReturnType<typeof finishReasonOf>;
  /** OpenAI-style counts; `prompt_tokens` includes cached input, `cached_tokens` is the part read from the cache. */
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cached_tokens: number };
}

/** The assistant message (OpenAI chat form) of a Messages API response. */
export function fromAnthropicResponse(body: AnthropicResponse): ConvertedResponse {
  const texts: string[] = [];
  const calls: NonNullable<AssistantMessage['tool_calls']> = [];
  for (const block of body.content) {
    if (block.type === 'text' && 'text' in block && typeof block.text === 'string') texts.push(block.text);
    else if (block.type === 'tool_use' && 'id' in block && 'name' in block) {
      const input = (block as { input?: unknown }).input ?? {};
      calls.push({ id: String(block.id), type: 'function', function: { name: String(block.name), arguments: JSON.stringify(input) } });
    }
  }
  const text = texts.join('');
  const message: AssistantMessage = { role: 'assistant', content: text === '' ? null : text, ...(calls.length ? { tool_calls: calls } : {}) };
  const u = body.usage;
  const usage = u
    ? (() => {
        const cached = u.cache_read_input_tokens ?? 0;
        const prompt = (u.input_tokens ?? 0) + cached + (u.cache_creation_input_tokens ?? 0);
        const completion = u.output_tokens ?? 0;
        return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion, cached_tokens: cached };
      })()
    : undefined;
  return { message, model: body.model, finishReason: finishReasonOf(body.stop_reason), ...(usage ? { usage } : {}) };
}
