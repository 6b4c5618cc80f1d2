import { z } from 'zod';
import type { ModelDelta } from '../model-provider';
import { MalformedStream, StreamInterrupted, type StreamReader } from '../retrying-post';
import { parseEventJson, sseFeed } from '../sse-events';
import { toolInput } from './messages-format';

/**
 * Reads one streamed Messages API answer (`stream: true`): `message_start`,
 * then per content block `content_block_start` / `_delta`... / `_stop`, then
 * `message_delta` (stop reason, output tokens) and `message_stop`; `ping`s
 * anywhere. Text and tool-input pieces go to `onDelta` as they come; the
 * events are accumulated into the body a non-streamed answer would have had,
 * which the provider parses with the very same schema and code
 * (AnthropicResponseSchema, fromAnthropicResponse).
 *
 * Only `message_stop` completes the stream: an end before it is a cut, and
 * so is an `error` event (`overloaded_error` mid-stream): StreamInterrupted,
 * retried. Event types this client does not know are skipped, as the API
 * asks (it may add new ones); block types it does not read (thinking, ...)
 * are kept as `{type}`, as the non-streamed parse ignores them.
 */

const UsageSchema = z.object({
  input_tokens: z.number().nullish(),
  output_tokens: z.number().nullish(),
  cache_read_input_tokens: z.number().nullish(),
  cache_creation_input_tokens: z.number().nullish(),
});

const EventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('message_start'), message: z.object({ model: z.string().optional(), usage: UsageSchema.nullish() }) }),
  z.object({
    type: z.literal('content_block_start'),
    index: z.number().int().min(0),
    content_block: z.union([
      z.object({ type: z.literal('text'), text: z.string() }),
      z.object({ type: z.literal('tool_use'), id: z.string().min(1), name: z.string().min(1), input: z.unknown().optional() }),
      z.object({ type: z.string() }),
    ]),
  }),
  z.object({
    type: z.literal('content_block_delta'),
    index: z.number().int().min(0),
    delta: z.union([
      z.object({ type: z.literal('text_delta'), text: z.string() }),
      z.object({ type: z.literal('input_json_delta'), partial_json: z.string() }),
      z.object({ type: z.string() }),
    ]),
  }),
  z.object({ type: z.literal('content_block_stop'), index: z.number().int().min(0) }),
  z.object({ type: z.literal('message_delta'), delta: z.object({ stop_reason: z.string().nullish() }), usage: UsageSchema.nullish() }),
  z.object({ type: z.literal('message_stop') }),
  z.object({ type: z.literal('ping') }),
  z.object({ type: z.literal('error'), error: z.object({ type: z.string(), message: z.string() }) }),
]);
const KNOWN = new Set(['message_start', 'content_block_start', 'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop', 'ping', 'error']);

type Block =
  { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: unknown; json: string; toolIndex: number } | { type: string };

export function anthropicStreamReader(attempt: number, onDelta?: (delta: ModelDelta) => void): StreamReader<unknown> {
  let model: string | undefined;
  const usage: Record<string, number> = {};
  const addUsage = (counts: z.infer<typeof UsageSchema> | null | undefined) => {
    for (const [k, v] of Object.entries(counts ?? {})) if (typeof v === 'number') usage[k] = v;
  };
  const blocks: Block[] = [];
  let toolUses = 0;
  let stopReason: string | null = null;
  let stopped = false;
  let events = 0;

  const blockAt = (index: number, type: string): Block => {
    const block = blocks[index];
    if (!block) throw new MalformedStream(`event ${events}: ${type} for content block ${index}, which never started`);
    return block;
  };

  const feed = sseFeed((event) => {
    events++;
    const json = parseEventJson(event.data);
    if (!json.ok) throw new MalformedStream(`event ${events} (${event.event ?? 'message'}): ${json.problem}`);
    const type = (json.value as { type?: unknown } | null)?.type;
    if (typeof type === 'string' && !KNOWN.has(type)) return;
    const parsed = EventSchema.safeParse(json.value);
    if (!parsed.success) {
      throw new MalformedStream(`event ${events} (${event.event ?? 'message'}):\n${z.prettifyError(parsed.error)}`);
    }
    const e = parsed.data;
    switch (e.type) {
      case 'message_start':
        model = e.message.model;
        addUsage(e.message.usage);
        return;
      case 'content_block_start': {
        const b = e.content_block;
        if (b.type === 'text' && 'text' in b) {
          blocks[e.index] = { type: 'text', text: b.text };
          if (b.text) onDelta?.({ attempt, text: b.text });
        } else if (b.type === 'tool_use' && 'id' in b) {
          const toolIndex = toolUses++;
          blocks[e.index] = { type: 'tool_use', id: b.id, name: b.name, input: b.input ?? {}, json: '', toolIndex };
          onDelta?.({ attempt, toolCalls: [{ index: toolIndex, id: b.id, name: b.name }] });
        } else blocks[e.index] = { type: b.type };
        return;
      }
      case 'content_block_delta': {
        const block = blockAt(e.index, e.type);
        const d = e.delta;
        if (d.type === 'text_delta' && 'text' in d && block.type === 'text' && 'text' in block) {
          block.text += d.text;
          if (d.text) onDelta?.({ attempt, text: d.text });
        } else if (d.type === 'input_json_delta' && 'partial_json' in d && 'json' in block) {
          block.json += d.partial_json;
          if (d.partial_json) onDelta?.({ attempt, toolCalls: [{ index: block.toolIndex, arguments: d.partial_json }] });
        }
        return;
      }
      case 'content_block_stop': {
        const block = blockAt(e.index, e.type);
        // The input is whole only now. Unparseable JSON (a call cut by max_tokens) is kept verbatim, as the request side does.
        if ('json' in block && block.json !== '') block.input = toolInput(block.json);
        return;
      }
      case 'message_delta':
        stopReason = e.delta.stop_reason ?? stopReason;
        // Counts here are cumulative: they replace message_start's.
        addUsage(e.usage);
        return;
      case 'message_stop':
        stopped = true;
        return;
      case 'ping':
        return;
      case 'error':
        throw new StreamInterrupted(`provider error mid-stream: ${e.error.type}: ${e.error.message}`);
    }
  });

  return {
    push: feed,
    end() {
      if (!stopped) throw new StreamInterrupted(`stream ended after ${events} event(s) without message_stop`);
      const content = blocks
        .filter((b) => b !== undefined)
        .map((b) => ('json' in b ? { type: 'tool_use' as const, id: b.id, name: b.name, input: b.input } : b));
      return { ...(model !== undefined ? { model } : {}), content, stop_reason: stopReason, usage };
    },
  };
}
