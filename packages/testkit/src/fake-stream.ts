/**
 * The fake provider's streamed answers (`stream: true`): a whole reply body
 * turned into the event-stream frames the real APIs send, one frame per
 * entry, which the server writes one at a time so that they reach the client
 * in pieces. Text is split into several deltas and tool-call arguments across
 * several chunks, so that a client's reassembly is really exercised.
 */

/** How a streamed answer breaks (a scripted cut, for retry tests). */
export interface FakeStreamCut {
  /** Frames written before the cut (0: none, only the head). */
  afterChunks: number;
  /**
   * `close` (default): the socket is destroyed, the stream ends without its terminal event;
   * `error`: a mid-stream error event (Anthropic `overloaded_error`, OpenAI `{error}` chunk), then a clean end;
   * `hang`: nothing more is written until the client goes away.
   */
  how?: 'close' | 'error' | 'hang';
}

/** `text` in `parts` pieces of near-equal length (fewer when it is shorter). */
export function splitText(text: string, parts: number): string[] {
  if (text === '') return [];
  const size = Math.max(1, Math.ceil(text.length / parts));
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

const TEXT_PARTS = 4;
const ARGUMENT_PARTS = 3;

interface ChatCompletionBody {
  id?: string;
  created?: number;
  model?: string;
  choices?: {
    message?: { content?: string | null; tool_calls?: { id: string; type?: string; function: { name: string; arguments: string } }[] };
    finish_reason?: string | null;
  }[];
  usage?: unknown;
}

/** Whether a reply body is an OpenAI chat completion with a choice (streamable); other bodies (malformed ones included) are sent whole. */
export function isChatCompletion(body: unknown): boolean {
  const c = body as { object?: unknown; choices?: unknown } | null;
  return typeof c === 'object' && c !== null && c.object === 'chat.completion' && Array.isArray(c.choices) && c.choices.length > 0;
}

/** `chat.completion.chunk` frames of a chat completion, `[DONE]` last; the usage chunk when asked for. */
export function openAiStreamFrames(body: unknown, includeUsage: boolean): string[] {
  const c = body as ChatCompletionBody;
  const base = { id: c.id ?? 'chatcmpl-fake', object: 'chat.completion.chunk', created: c.created ?? Math.floor(Date.now() / 1000), model: c.model };
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const choice = c.choices?.[0];
  const frames = [chunk({ role: 'assistant', content: '' })];
  for (const piece of splitText(choice?.message?.content ?? '', TEXT_PARTS)) frames.push(chunk({ content: piece }));
  for (const [index, call] of (choice?.message?.tool_calls ?? []).entries()) {
    frames.push(chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }));
    for (const piece of splitText(call.function.arguments, ARGUMENT_PARTS)) frames.push(chunk({ tool_calls: [{ index, function: { arguments: piece } }] }));
  }
  frames.push(chunk({}, choice?.finish_reason ?? 'stop'));
  if (includeUsage && c.usage) frames.push(`data: ${JSON.stringify({ ...base, choices: [], usage: c.usage })}\n\n`);
  frames.push('data: [DONE]\n\n');
  return frames;
}

/** OpenAI's mid-stream failure chunk. */
export const OPENAI_STREAM_ERROR = `data: ${JSON.stringify({ error: { message: 'The server had an error while processing your request.', type: 'server_error' } })}\n\n`;

interface AnthropicMessageBody {
  type?: string;
  content?: ({ type: string; text?: string; id?: string; name?: string; input?: unknown } & Record<string, unknown>)[];
  stop_reason?: string | null;
  usage?: { output_tokens?: number } & Record<string, unknown>;
}

/** Whether a reply body is a well-formed Messages API message (streamable); other bodies (malformed ones included) are sent whole. */
export function isAnthropicMessage(body: unknown): boolean {
  const m = body as { type?: unknown; content?: unknown } | null;
  return typeof m === 'object' && m !== null && m.type === 'message' && Array.isArray(m.content);
}

const event = (type: string, data: Record<string, unknown>) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;

/** The Messages API event stream of a message: start, a ping, each block's start/deltas/stop, the stop reason, stop. */
export function anthropicStreamFrames(body: unknown): string[] {
  const m = body as AnthropicMessageBody;
  const { content = [], stop_reason = 'end_turn', usage = {}, ...head } = m;
  const frames = [
    event('message_start', { message: { ...head, content: [], stop_reason: null, stop_sequence: null, usage: { ...usage, output_tokens: 1 } } }),
    event('ping', {}),
  ];
  for (const [index, block] of content.entries()) {
    if (block.type === 'text') {
      frames.push(event('content_block_start', { index, content_block: { type: 'text', text: '' } }));
      for (const text of splitText(block.text ?? '', TEXT_PARTS)) frames.push(event('content_block_delta', { index, delta: { type: 'text_delta', text } }));
    } else if (block.type === 'tool_use') {
      frames.push(event('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } }));
      for (const partial_json of splitText(JSON.stringify(block.input ?? {}), ARGUMENT_PARTS)) {
        frames.push(event('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } }));
      }
    } else {
      frames.push(event('content_block_start', { index, content_block: block }));
    }
    frames.push(event('content_block_stop', { index }));
  }
  frames.push(event('message_delta', { delta: { stop_reason, stop_sequence: null }, usage: { output_tokens: usage.output_tokens ?? 0 } }));
  frames.push(event('message_stop', {}));
  return frames;
}

/** Anthropic's mid-stream overload. */
export const ANTHROPIC_STREAM_ERROR = event('error', { error: { type: 'overloaded_error', message: 'Overloaded' } });

/** Raw event-stream text split into its frames (at blank lines), for a policy's verbatim `sse`. */
export function sseFrames(text: string): string[] {
  return text.split(/(?<=\n\n)/).filter((f) => f !== '');
}
