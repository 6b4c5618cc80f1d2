import { HttpClient } from '../http-client';
import { ProviderError, type ModelCallContext, type ModelProvider, type ModelRequest, type ModelResponse, type ProviderObserver } from '../model-provider';
import type { BackoffOptions } from '../retry-policy';
import { requestJson } from '../retrying-post';
import type { ProviderLimiter } from '../shared-limiter';
import { anthropicStreamReader } from './anthropic-stream';
import { AnthropicResponseSchema, fromAnthropicResponse, toAnthropicRequest } from './messages-format';

/** The API version this client speaks (sent as `anthropic-version`). */
export const ANTHROPIC_VERSION = '2023-06-01';

export interface AnthropicProviderOptions {
  /** e.g. `https://api.anthropic.com`; requests go to `${baseUrl}/v1/messages` (a trailing `/v1` is accepted). */
  baseUrl: string;
  apiKey?: string;
  timeoutMs: number;
  maxAttempts: number;
  backoff: BackoffOptions;
  /** `max_tokens` of every request (the Messages API requires one). */
  maxTokens: number;
  /** Prompt-cache breakpoints on the system prompt, the tools and the conversation so far. */
  promptCache?: boolean;
  observer?: ProviderObserver;
  userAgent?: string;
  /** The limiter all workers share (LLM_SHARED_LIMITER); absent: each worker backs off alone. */
  limiter?: ProviderLimiter;
  /** Stream the answer (LLM_STREAM, default true): deltas go to the call's `onDelta`, the result is the same. */
  stream?: boolean;
}

/**
 * Anthropic's Messages API, streamed (`stream: true`, the default) or not, with the hand-written keep-alive
 * client and the shared retry loop (429, 529 and 5xx retried, `retry-after`
 * honoured). Conversations stay stored in OpenAI chat form; the request and
 * the response are converted at this boundary (messages-format.ts). A
 * streamed answer is accumulated into the non-streamed body
 * (anthropic-stream.ts) and parsed by the same code: both give the same result.
 */
export class AnthropicProvider implements ModelProvider {
  readonly name = 'anthropic';
  private readonly http = new HttpClient();
  private readonly url: URL;

  constructor(private readonly options: AnthropicProviderOptions) {
    this.url = new URL(`${options.baseUrl.replace(/\/+$/, '').replace(/\/v1$/, '')}/v1/messages`);
  }

  async complete(request: ModelRequest, context: ModelCallContext): Promise<ModelResponse> {
    const headers: Record<string, string> = {
      'anthropic-version': ANTHROPIC_VERSION,
      'idempotency-key': context.idempotencyKey,
      'x-baton-session-id': context.sessionId,
    };
    if (this.options.apiKey) headers['x-api-key'] = this.options.apiKey;
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    const body = toAnthropicRequest(request, { maxTokens: this.options.maxTokens, cache: this.options.promptCache ?? true });
    const stream = this.options.stream ?? true;
    const { json, attempts } = await requestJson(
      { http: this.http, url: this.url, headers, body: stream ? { ...body, stream: true } : body, options: this.options, context, model: request.model },
      stream ? (attempt) => anthropicStreamReader(attempt, context.onDelta) : undefined,
    );
    return this.parse(json, request, attempts);
  }

  private parse(json: unknown, request: ModelRequest, attempts: number): ModelResponse {
    const parsed = AnthropicResponseSchema.safeParse(json);
    if (!parsed.success) throw ProviderError.malformedResponse(parsed.error, attempts);
    const out = fromAnthropicResponse(parsed.data);
    return {
      message: out.message,
      model: out.model ?? request.model,
      attempts,
      // The agent loop reads it: plain text on `stop` is nudged, `length` is a truncated turn.
      finishReason: out.finishReason,
      ...(out.usage ? { usage: out.usage } : {}),
    };
  }

  close(): void {
    this.http.close();
  }
}
