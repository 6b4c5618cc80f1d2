import { z } from 'zod';
import { HttpClient, HttpTimeoutError, type HttpReply } from './http-client';
import {
  ProviderError,
  type ModelCallContext,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type ProviderObserver,
} from './model-provider';
import { abortableSleep, isRetryableStatus, parseRetryAfter, retryDelayMs, type BackoffOptions } from './retry-policy';

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
  usage: z
    .object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional(), total_tokens: z.number().optional() })
    .nullish(),
});

const ErrorBodySchema = z.object({ error: z.union([z.string(), z.object({ message: z.string() }).loose()]) }).loose();

function providerMessage(reply: HttpReply): string {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(reply.text));
    if (parsed.success) return typeof parsed.data.error === 'string' ? parsed.data.error : parsed.data.error.message;
  } catch {
    // not JSON: use the text
  }
  return reply.text.slice(0, 500) || '(empty body)';
}

/**
 * OpenAI-compatible chat completions (non-streaming). Every attempt of a
 * turn carries the same `Idempotency-Key`; all retries happen inside the one
 * gate call that invoked `complete`, so they share its lease. SDK-style
 * hidden retries do not exist here: this loop is the only one.
 */
export class OpenAiProvider implements ModelProvider {
  readonly name = 'openai';
  private readonly http = new HttpClient();
  private readonly url: URL;

  constructor(private readonly options: OpenAiProviderOptions) {
    this.url = new URL(`${options.baseUrl.replace(/\/+$/, '')}/chat/completions`);
  }

  async complete(request: ModelRequest, context: ModelCallContext): Promise<ModelResponse> {
    const { signal, idempotencyKey, sessionId, logger } = context;
    const headers: Record<string, string> = { 'idempotency-key': idempotencyKey, 'x-baton-session-id': sessionId };
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (this.options.userAgent) headers['user-agent'] = this.options.userAgent;
    const body = { model: request.model, messages: request.messages, ...(request.tools.length ? { tools: request.tools } : {}) };

    for (let attempt = 1; ; attempt++) {
      const started = Date.now();
      let reply: HttpReply;
      try {
        reply = await this.http.postJson(this.url, headers, body, { signal, timeoutMs: this.options.timeoutMs });
      } catch (err) {
        if (signal.aborted) throw signal.reason; // cancelled or lease lost: no retry, no error of ours
        const status = err instanceof HttpTimeoutError ? 'timeout' : 'network';
        this.options.observer?.attempt({ status, durationMs: Date.now() - started });
        const message = `${status === 'timeout' ? 'model request timed out' : 'model request failed'}: ${(err as Error).message}`;
        await this.beforeRetry(attempt, message, status, undefined, context);
        logger.warn({ attempt, status, err: (err as Error).message }, 'model request failed; retrying');
        continue;
      }
      this.options.observer?.attempt({ status: reply.status, durationMs: Date.now() - started });
      if (reply.status >= 200 && reply.status < 300) return this.parse(reply, request, attempt, idempotencyKey);

      const message = `provider returned ${reply.status}: ${providerMessage(reply)}`;
      if (!isRetryableStatus(reply.status)) throw new ProviderError(message, reply.status, attempt);
      const retryAfter = reply.status === 429 || reply.status === 503 ? parseRetryAfter(reply.headers['retry-after']) : undefined;
      await this.beforeRetry(attempt, message, reply.status, retryAfter, context);
      logger.warn({ attempt, status: reply.status, retryAfterMs: retryAfter }, 'model request refused; retrying');
    }
  }

  /** Throws when attempts are exhausted, else sleeps the backoff (abortable). */
  private async beforeRetry(
    attempt: number,
    message: string,
    status: ProviderError['status'],
    retryAfterMs: number | undefined,
    context: ModelCallContext,
  ): Promise<void> {
    if (attempt >= this.options.maxAttempts) {
      throw new ProviderError(`${message} (after ${attempt} attempt${attempt === 1 ? '' : 's'})`, status, attempt);
    }
    await abortableSleep(retryDelayMs(attempt, this.options.backoff, retryAfterMs), context.signal);
  }

  private parse(reply: HttpReply, request: ModelRequest, attempts: number, idempotencyKey: string): ModelResponse {
    let json: unknown;
    try {
      json = JSON.parse(reply.text);
    } catch {
      throw new ProviderError(`malformed provider response: not JSON: ${reply.text.slice(0, 200)}`, 'malformed', attempts);
    }
    const parsed = ChatCompletionSchema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      throw new ProviderError(`malformed provider response: ${problems}`, 'malformed', attempts);
    }
    const { message, finish_reason: finishReason } = parsed.data.choices[0]!;
    const toolCalls = (message.tool_calls ?? []).map((c, i) => ({
      // Ids must be unique in the conversation; a provider that omits them gets stable ones.
      id: c.id || `call_${idempotencyKey.replace(/[^A-Za-z0-9_.-]/g, '_')}_${i}`,
      type: 'function' as const,
      function: { name: c.function.name, arguments: c.function.arguments ?? '' },
    }));
    return {
      message: { role: 'assistant', content: message.content ?? null, ...(toolCalls.length ? { tool_calls: toolCalls } : {}) },
      model: parsed.data.model ?? request.model,
      attempts,
      finishReason: finishReason ?? null,
      ...(parsed.data.usage ? { usage: parsed.data.usage } : {}),
    };
  }

  close(): void {
    this.http.close();
  }
}
