import type { ChatMessage, ChatRequestBody, FakeToolCall } from './fake-provider-script';

/**
 * The fake provider's Anthropic side (`POST /v1/messages`): a Messages API
 * request is read into the chat form the scripted policy understands, and a
 * chat-completion reply (scripted, or built by a test's policy) is written
 * back as a Messages API response. Bodies a policy builds in Anthropic's own
 * form (`type: "message"` or `type: "error"`) are sent unchanged.
 */

interface AnthropicBlock {
  type: string;
  text?: string;
  id?: string;
  name?: string;
  input?: unknown;
  tool_use_id?: string;
  content?: string | { type: string; text?: string }[];
}

export interface AnthropicRequestBody {
  model?: string;
  max_tokens?: number;
  system?: string | AnthropicBlock[];
  messages?: { role: 'user' | 'assistant'; content: string | AnthropicBlock[] }[];
  tools?: { name: string; description?: string; input_schema?: unknown }[];
}

/** Why a Messages API request is malformed, or null (what the real API answers 400 for, in short). */
export function anthropicRequestProblem(body: AnthropicRequestBody): string | null {
  if (typeof body.model !== 'string' || !body.model) return 'model: field required';
  if (typeof body.max_tokens !== 'number') return 'max_tokens: field required';
  if (!Array.isArray(body.messages) || body.messages.length === 0) return 'messages: at least one message is required';
  let previous = '';
  for (const [i, m] of body.messages.entries()) {
    if (m.role !== 'user' && m.role !== 'assistant') return `messages.${i}.role: must be user or assistant`;
    if (m.role === previous) return `messages.${i}: roles must alternate between "user" and "assistant"`;
    previous = m.role;
  }
  if (body.messages[0]!.role !== 'user') return 'messages.0: the first message must use the "user" role';
  return null;
}

function text(content: AnthropicBlock['content']): string {
  if (typeof content === 'string') return content;
  return (content ?? []).map((b) => b.text ?? '').join('');
}

/** The chat-completions form of a Messages API request. */
export function anthropicToChat(body: AnthropicRequestBody): ChatRequestBody {
  const messages: ChatMessage[] = [];
  const system = typeof body.system === 'string' ? body.system : (body.system ?? []).map((b) => b.text ?? '').join('\n');
  if (system) messages.push({ role: 'system', content: system });
  for (const m of body.messages ?? []) {
    const blocks: AnthropicBlock[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    if (m.role === 'assistant') {
      const calls: FakeToolCall[] = blocks
        .filter((b) => b.type === 'tool_use')
        .map((b) => ({ id: b.id ?? '', type: 'function', function: { name: b.name ?? '', arguments: JSON.stringify(b.input ?? {}) } }));
      const said = blocks
        .filter((b) => b.type === 'text')
        .map((b) => b.text ?? '')
        .join('');
      messages.push({ role: 'assistant', content: said || null, ...(calls.length ? { tool_calls: calls } : {}) });
      continue;
    }
    for (const b of blocks) {
      if (b.type === 'tool_result') messages.push({ role: 'tool', tool_call_id: b.tool_use_id ?? '', content: text(b.content) });
      else if (b.type === 'text') messages.push({ role: 'user', content: b.text ?? '' });
    }
  }
  return {
    model: body.model,
    messages,
    tools: (body.tools ?? []).map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.input_schema } })),
  };
}

interface ChatReply {
  object?: string;
  model?: string;
  choices?: { message?: { content?: string | null; tool_calls?: FakeToolCall[] }; finish_reason?: string }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number };
}

let messageSeq = 0;

/** A Messages API response for a chat-completion body; other bodies are returned as they are. */
export function chatToAnthropic(reply: unknown, model = 'fake-claude'): unknown {
  const chat = reply as ChatReply;
  if (!chat || typeof chat !== 'object' || chat.object !== 'chat.completion') return reply;
  const choice = chat.choices?.[0];
  const content: Record<string, unknown>[] = [];
  if (choice?.message?.content) content.push({ type: 'text', text: choice.message.content });
  for (const call of choice?.message?.tool_calls ?? []) {
    let input: unknown = {};
    try {
      input = JSON.parse(call.function.arguments || '{}');
    } catch {
      input = { _raw: call.function.arguments };
    }
    content.push({ type: 'tool_use', id: call.id.startsWith('toolu_') ? call.id : `toolu_${call.id}`, name: call.function.name, input });
  }
  const finish = choice?.finish_reason;
  return {
    id: `msg_fake_${++messageSeq}`,
    type: 'message',
    role: 'assistant',
    model: chat.model ?? model,
    content,
    stop_reason: finish === 'tool_calls' ? 'tool_use' : finish === 'length' ? 'max_tokens' : 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: chat.usage?.prompt_tokens ?? 0,
      output_tokens: chat.usage?.completion_tokens ?? 0,
      cache_read_input_tokens: 0,
      cache_creation_input_tokens: 0,
    },
  };
}

/** Anthropic's error body for a status (`overloaded_error` for 529, `rate_limit_error` for 429, ...). */
export function anthropicError(status: number, message: string): Record<string, unknown> {
  const type =
    status === 429
      ? 'rate_limit_error'
      : status === 529
        ? 'overloaded_error'
        : status === 401
          ? 'authentication_error'
          : status === 400
            ? 'invalid_request_error'
            : status === 404
              ? 'not_found_error'
              : 'api_error';
  return { type: 'error', error: { type, message } };
}
