import { AssistantMessageSchema, type Message } from '@baton/core';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { OpenAiTool } from '../tools/tool-registry';

/** One model request of a turn. */
export interface ModelRequest {
  model: string;
  messages: Message[];
  tools: readonly OpenAiTool[];
}

/** Who is asking: forwarded as headers, used to abort. */
export interface ModelCallContext {
  /** Aborts on cancel, gate-lease loss or shutdown: the request and any backoff sleep end at once. */
  signal: AbortSignal;
  /** `<taskId>:<turn>`, the gate key; sent as `Idempotency-Key` on every attempt. */
  idempotencyKey: string;
  sessionId: string;
  logger: Logger;
  /**
   * Streaming (LLM_STREAM): called with every text or tool-call-argument
   * delta as it arrives, in order. `attempt` is the attempt it belongs to: a
   * stream cut mid-way is retried (same Idempotency-Key) as attempt + 1, and
   * the deltas of the abandoned attempt are to be dropped by whoever shows
   * them. Absent: the provider may still stream, nobody listens.
   */
  onDelta?: (delta: ModelDelta) => void;
}

/** One piece of a streamed response (see ModelCallContext.onDelta). */
export interface ModelDelta {
  /** 1 for the first attempt of the turn's request. */
  attempt: number;
  /** Assistant text appended. */
  text?: string;
  /**
   * Tool-call pieces: `id` and `name` come once, when the call starts; `arguments` is appended JSON text.
   * `index` is the call's place among the message's tool calls (Anthropic: among its `tool_use` blocks).
   * The pieces add up to the arguments as the model wrote them; the committed message holds the same
   * value (Anthropic's is re-serialised from the parsed input, so its spacing may differ).
   */
  toolCalls?: { index: number; id?: string; name?: string; arguments?: string }[];
}

/**
 * What a turn's gate commits (and replays): the assistant message plus
 * bookkeeping. Parsed with this schema when read back.
 */
export const ModelResponseSchema = z.object({
  message: AssistantMessageSchema,
  model: z.string(),
  attempts: z.number().int().min(1),
  /**
   * The choice's finish_reason (`stop`, `tool_calls`, `length`, ...); absent
   * in responses stored before it was recorded, and from providers that omit it.
   */
  finishReason: z.string().nullable().optional(),
  usage: z.object({ prompt_tokens: z.number().optional(), completion_tokens: z.number().optional(), total_tokens: z.number().optional() }).optional(),
});
export type ModelResponse = z.infer<typeof ModelResponseSchema>;

/**
 * Responses a provider of this package built from a body its own schema
 * accepted, into the shape ModelResponseSchema describes: the agent loop
 * takes these as they are instead of parsing them again. A response read
 * back from Redis (a replayed or joined turn) is a new object, never in
 * here, and is parsed; so is anything another provider returns.
 */
const builtResponses = new WeakSet<ModelResponse>();

export function builtResponse(response: ModelResponse): ModelResponse {
  builtResponses.add(response);
  return response;
}

export function isBuiltResponse(value: unknown): value is ModelResponse {
  return typeof value === 'object' && value !== null && builtResponses.has(value as ModelResponse);
}

export interface ModelProvider {
  /** For logs: `openai`, `demo`, ... */
  readonly name: string;
  complete(request: ModelRequest, context: ModelCallContext): Promise<ModelResponse>;
}

/**
 * A model request that failed for good (non-retryable status, attempts
 * exhausted, malformed response). The agent loop fails the task with it.
 */
export class ProviderError extends Error {
  constructor(
    message: string,
    readonly status: number | 'timeout' | 'network' | 'malformed',
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'ProviderError';
  }

  /** A response body that is not of the protocol's shape (every protocol's parser says it the same way). */
  static malformedResponse(error: z.ZodError, attempts: number): ProviderError {
    return new ProviderError(`malformed provider response:\n${z.prettifyError(error)}`, 'malformed', attempts);
  }
}

/** Hooks for metrics; every attempt is reported. */
export interface ProviderObserver {
  attempt(outcome: { status: number | 'timeout' | 'network' | 'malformed'; durationMs: number }): void;
}
