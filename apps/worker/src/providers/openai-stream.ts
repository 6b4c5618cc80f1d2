import { z } from 'zod';
import type { ModelDelta } from './model-provider';
import { MalformedStream, StreamInterrupted, type StreamReader } from './retrying-post';
import { parseEventJson, sseFeed } from './sse-events';

/**
 * Reads one streamed OpenAI chat completion (`stream: true`): `data:` chunks
 * of `chat.completion.chunk`, then `data: [DONE]`. Text and tool-call pieces
 * go to `onDelta` as they come; the chunks are accumulated into the body a
 * non-streamed answer would have had (`choices[0].message`, `finish_reason`,
 * `usage` from the `include_usage` chunk), which the provider then parses
 * with the very same schema: both paths give identical results.
 *
 * The stream is complete once `[DONE]` or a chunk with a `finish_reason` has
 * come (some compatible servers omit `[DONE]`); an end before either is a cut
 * (StreamInterrupted, retried). A `data: {"error": ...}` chunk, which OpenAI
 * sends when it fails mid-stream, is a cut too.
 */

const UsageSchema = z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional(), total_tokens: z.number().optional() });

const ChunkSchema = z.object({
  model: z.string().optional(),
  choices: z.array(
    z.object({
      delta: z
        .object({
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                index: z.number().int().min(0),
                id: z.string().nullish(),
                type: z.literal('function').nullish(),
                function: z.object({ name: z.string().nullish(), arguments: z.string().nullish() }).nullish(),
              }),
            )
            .nullish(),
        })
        .nullish(),
      finish_reason: z.string().nullish(),
    }),
  ),
  usage: UsageSchema.nullish(),
});

const ErrorChunkSchema = z.object({ error: z.union([z.string(), z.object({ message: z.string() }).loose()]) });

/** The non-streamed body the chunks add up to (what ChatCompletionSchema reads). */
export interface AccumulatedCompletion {
  model?: string;
  choices: [
    {
      message: { role: 'assistant'; content: string | null; tool_calls?: { id?: string; type: 'function'; function: { name: string; arguments: string } }[] };
      finish_reason: string | null;
    },
  ];
  usage?: z.infer<typeof UsageSchema>;
}

export function openAiStreamReader(attempt: number, onDelta?: (delta: ModelDelta) => void): StreamReader<AccumulatedCompletion> {
  let model: string | undefined;
  let content: string | null = null;
  const calls = new Map<number, { id?: string; name?: string; arguments: string }>();
  let finishReason: string | null = null;
  let usage: AccumulatedCompletion['usage'];
  let done = false;
  let chunks = 0;

  const feed = sseFeed((event) => {
    if (event.data.trim() === '[DONE]') {
      done = true;
      return;
    }
    chunks++;
    const json = parseEventJson(event.data);
    if (!json.ok) throw new MalformedStream(`chunk ${chunks}: ${json.problem}`);
    const error = ErrorChunkSchema.safeParse(json.value);
    if (error.success) {
      const e = error.data.error;
      throw new StreamInterrupted(`provider error mid-stream: ${typeof e === 'string' ? e : e.message}`);
    }
    const parsed = ChunkSchema.safeParse(json.value);
    if (!parsed.success) {
      throw new MalformedStream(`chunk ${chunks}:\n${z.prettifyError(parsed.error)}`);
    }
    const chunk = parsed.data;
    model ??= chunk.model;
    if (chunk.usage) usage = chunk.usage;
    // n = 1 is what Baton asks for: only the first choice counts, as in the non-streamed parse.
    const choice = chunk.choices[0];
    if (!choice) return;
    const delta: ModelDelta = { attempt };
    if (choice.delta?.content) {
      content = (content ?? '') + choice.delta.content;
      delta.text = choice.delta.content;
    }
    for (const piece of choice.delta?.tool_calls ?? []) {
      const call = calls.get(piece.index) ?? { arguments: '' };
      calls.set(piece.index, call);
      const out: NonNullable<ModelDelta['toolCalls']>[number] = { index: piece.index };
      if (piece.id && !call.id) call.id = out.id = piece.id;
      // The name comes once, with the call's first piece; some servers repeat it.
      if (piece.function?.name && !call.name) call.name = out.name = piece.function.name;
      if (piece.function?.arguments) {
        call.arguments += piece.function.arguments;
        out.arguments = piece.function.arguments;
      }
      if (out.id !== undefined || out.name !== undefined || out.arguments !== undefined) (delta.toolCalls ??= []).push(out);
    }
    if (choice.finish_reason) {
      finishReason = choice.finish_reason;
      done = true;
    }
    if (delta.text !== undefined || delta.toolCalls) onDelta?.(delta);
  });

  return {
    push: feed,
    end() {
      if (!done) throw new StreamInterrupted(`stream ended after ${chunks} chunk(s) without [DONE] or a finish_reason`);
      const toolCalls = [...calls.entries()]
        .sort(([a], [b]) => a - b)
        .map(([, c]) => ({ ...(c.id ? { id: c.id } : {}), type: 'function' as const, function: { name: c.name ?? '', arguments: c.arguments } }));
      return {
        ...(model !== undefined ? { model } : {}),
        choices: [{ message: { role: 'assistant', content, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) }, finish_reason: finishReason }],
        ...(usage ? { usage } : {}),
      };
    },
  };
}
