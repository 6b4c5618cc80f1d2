import { z } from 'zod';
import { HttpClient, JsonText } from './http-client';
import { toolsJson } from '../tools/tools-json';
import {
  builtResponse,
  ProviderError,
  type ModelCallContext,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type ProviderObserver,
} from './model-provider';
import type { BackoffOptions } from './retry-policy';
import { openAiStreamReader } from './openai-stream';
import { requestJson } from './retrying-post';
import type { ProviderLimiter } from './shared-limiter';

export interface OpenAiProviderOptions {
  /** e.g. `https://api.openai.com/v1`; requests go to `${baseUrl}/chat/completions`. */
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  /** Total attempts per turn, the first included. */
  maxAttempts: number;
  backoff: BackoffOptions;
  observer?: ProviderObserver;
  userAgent?: string;
  /** The limiter all workers share (LLM_SHARED_LIMITER); absent: each worker backs off alone. */
  limiter?: ProviderLimiter;
  /** Stream the answer (LLM_STREAM, default true): deltas go to the call's `onDelta`, the result is the same. */
  stream?: boolean;
}

/** The part of an OpenAI chat completion Baton reads; anything else is ignored. */
const ChatCompletionSchema = z.object({
  model: z.string().optional(),
  choices: z
    .array(
      z.object({
        message: z.object({
          role: z.literal('assistant'),
          content: z.string().nullish(),
          tool_calls: z
            .array(
              z.object({
                id: z.string().nullish(),
                type: z.literal('function').optional(),
                function: z.object({ name: z.string().min(1), arguments: z.string().nullish() }),
              }),
            )
            .nullish(),
        }),
        finish_reason: z.string().nullish(),
      }),
    )
    .min(1),
  usage: z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional(), total_tokens: z.number().optional() }).nullish(),
});

/**
 * The request body's JSON: `{ model, messages, tools?, stream?, stream_options? }`.
 * Assembled as text so that the tools, the largest part and the same for
 * every turn of a mode, are serialized once (toolsJson), not per request.
 */
function requestBody(request: ModelRequest, stream: boolean): JsonText {
  const tools = request.tools.length ? `,"tools":${toolsJson(request.tools)}` : '';
  const streaming = stream ? ',"stream":true,"stream_options":{"include_usage":true}' : '';
  return new JsonText(`{"model":${JSON.stringify(request.model)},"messages":${JSON.stringify(request.messages)}${tools}${streaming}}`);
}

/**
 * OpenAI-compatible chat completions, streamed (`stream: true`, the default)
 * or not. Every attempt of a turn carries the same `Idempotency-Key`; all
 * retries, a cut stream's included, happen inside the one gate call that
 * invoked `complete` (the shared loop, retrying-post.ts), so they share its
 * lease. SDK-style hidden retries do not exist here. A streamed answer is
 * accumulated into the body a non-streamed one would have had and parsed by
 * the same code (openai-stream.ts), so both give the same ModelResponse.
 */
export class OpenAiProvider implements ModelProvider {
  readonly name = 'openai';
  private readonly http = new HttpClient();
  private readonly url: URL;

  constructor(private readonly options: OpenAiProviderOptions) {
    this.url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/chat/completions`);
  }

  async complete(request: ModelRequest, context: ModelCallContext): Promise<ModelResponse> {
    const { idempotencyKey, sessionId } = context;
    const headers: Record<string, string> = { 'idempotency-key': idempotencyKey, 'x-baton-session-id': sessionId };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    const stream = this.options.stream ?? true;
    const body = requestBody(request, stream);
    const { json, attempts } = await requestJson(
      {
        http: this.http,
        url: this.url,
        headers,
        body,
        options: this.options,
        context,
        model: request.model,
      },
      stream ? (attempt) => openAiStreamReader(attempt, context.onDelta) : undefined,
    );
    return this.parse(json, request, attempts, idempotencyKey);
  }

  private parse(json: unknown, request: ModelRequest, attempts: number, idempotencyKey: string): ModelResponse {
    const parsed = ChatCompletionSchema.safeParse(json);
    if (!parsed.success) throw ProviderError.malformedResponse(parsed.error, attempts);
    const { message, finish_reason: finishReason } = parsed.data.choices[0]!;
    const toolCalls = (message.tool_calls ?? []).map((c, i) => ({
      // Ids must be unique in the conversation; a provider that omits them gets stable ones.
      id: c.id || `call_${idempotencyKey.replace(/[^A-Za-z0-9_.-]/g, '_')}_${i}`,
      type: 'function' as const,
      function: { name: c.function.name, arguments: c.function.arguments ?? '' },
    }));
    return builtResponse({
      message: { role: 'assistant', content: message.content ?? null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
      model: parsed.data.model ?? request.model,
      attempts,
      finishReason: finishReason ?? null,
      ...(parsed.data.usage ? { usage: parsed.data.usage } : {}),
    });
  }

  close(): void {
    this.http.close();
  }
}
