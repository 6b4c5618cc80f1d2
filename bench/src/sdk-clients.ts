/**
 * The four provider clients the `sdk` benchmark compares, behind one call:
 * Baton's hand-written OpenAiProvider and AnthropicProvider (node:http with
 * a keep-alive agent, zod-parsed answers, the shared retry loop) and the
 * official SDKs (`openai`, `@anthropic-ai/sdk`, global fetch) with their own
 * retries off. Every client is loaded with a dynamic import, so a process
 * can measure what loading it costs (time, RSS).
 *
 * Baton's providers are imported from the worker's build output by path,
 * not from `@baton/worker`: the package entry loads the whole worker
 * (BullMQ, the MCP SDK, ...), which says nothing about the client itself.
 */
import type Anthropic from '@anthropic-ai/sdk';
import type OpenAI from 'openai';
import type { ModelCallContext, ModelRequest } from '../../apps/worker/dist/providers/model-provider';
import type { AnthropicRequest } from '../../apps/worker/dist/providers/anthropic/messages-format';

export const CLIENT_NAMES = ['baton-openai', 'sdk-openai', 'baton-anthropic', 'sdk-anthropic'] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

export interface BenchClient {
  /**
   * One model request under `key` (sent as the Idempotency-Key); resolves
   * with the first tool call's name. Rejects on a non-2xx answer (Baton's
   * client: after its own retries; an SDK: at once, its retries are off).
   */
  call(key: string, signal: AbortSignal): Promise<string>;
  close(): void;
}

export interface ClientOptions {
  /** Baton: total attempts (the first included). SDK: `maxRetries` (0 = off). */
  retries?: number;
  /** How an SDK gets the key: the `headers` request option, or its `idempotencyKey` request option. */
  keyVia?: 'headers' | 'option';
}

const TIMEOUT_MS = 30_000;

// Non-streaming bodies (`stream` absent), so `create` resolves with the whole answer.
type ChatBody = OpenAI.Chat.ChatCompletionCreateParamsNonStreaming;
type MessagesBody = Anthropic.MessageCreateParamsNonStreaming;

/** A short conversation with one tool: the fake answers it with an attempt_completion call. */
export const REQUEST: ModelRequest = {
  model: 'fake-model',
  messages: [
    { role: 'system', content: 'You are a careful coding assistant. Finish every task with attempt_completion.' },
    { role: 'user', content: 'What does `git rebase --onto` do? One sentence.' },
    { role: 'assistant', content: 'It replays a range of commits onto a new base.' },
    { role: 'user', content: 'Good. Now finish.' },
  ],
  tools: [
    {
      type: 'function',
      function: {
        name: 'attempt_completion',
        description: 'Present the result of the task to the user.',
        parameters: { type: 'object', properties: { result: { type: 'string' } }, required: ['result'], additionalProperties: false },
      },
    },
  ],
};

// The retry loop logs a warning per retried attempt; a benchmark has no use for it.
const silentLogger = { warn() {}, info() {}, debug() {}, error() {} } as unknown as ModelCallContext['logger'];

function sessionOf(key: string): string {
  return `s-${key.split(':')[0]}`;
}

export async function loadClient(name: ClientName, baseUrl: string, options: ClientOptions = {}): Promise<BenchClient> {
  switch (name) {
    case 'baton-openai': {
      const { OpenAiProvider } = await import('../../apps/worker/dist/providers/openai-provider');
      const provider = new OpenAiProvider({
        baseUrl: `${baseUrl}/v1`,
        apiKey: 'sk-bench',
        timeoutMs: TIMEOUT_MS,
        maxAttempts: options.retries ?? 1,
        backoff: { baseMs: 1, maxMs: 1 },
      });
      return {
        async call(key, signal) {
          const r = await provider.complete(REQUEST, { signal, idempotencyKey: key, sessionId: sessionOf(key), logger: silentLogger });
          return r.message.tool_calls?.[0]?.function.name ?? '';
        },
        close: () => provider.close(),
      };
    }
    case 'baton-anthropic': {
      const { AnthropicProvider } = await import('../../apps/worker/dist/providers/anthropic/anthropic-provider');
      const provider = new AnthropicProvider({
        baseUrl,
        apiKey: 'sk-ant-bench',
        timeoutMs: TIMEOUT_MS,
        maxAttempts: options.retries ?? 1,
        backoff: { baseMs: 1, maxMs: 1 },
        maxTokens: 1024,
      });
      return {
        async call(key, signal) {
          const r = await provider.complete(REQUEST, { signal, idempotencyKey: key, sessionId: sessionOf(key), logger: silentLogger });
          return r.message.tool_calls?.[0]?.function.name ?? '';
        },
        close: () => provider.close(),
      };
    }
    case 'sdk-openai': {
      const { default: OpenAiSdk } = await import('openai');
      const client = new OpenAiSdk({ baseURL: `${baseUrl}/v1`, apiKey: 'sk-bench', maxRetries: options.retries ?? 0, timeout: TIMEOUT_MS });
      // The same body Baton's client sends (its messages and tools are already in chat-completions form).
      const body = { model: REQUEST.model, messages: REQUEST.messages, tools: REQUEST.tools } as unknown as ChatBody;
      return {
        async call(key, signal) {
          const r = await client.chat.completions.create(body, requestOptions(key, signal, options.keyVia));
          return r.choices[0]?.message.tool_calls?.[0]?.type === 'function' ? r.choices[0].message.tool_calls[0].function.name : '';
        },
        close() {},
      };
    }
    case 'sdk-anthropic': {
      const [{ default: AnthropicSdk }, { toAnthropicRequest }] = await Promise.all([
        import('@anthropic-ai/sdk'),
        import('../../apps/worker/dist/providers/anthropic/messages-format'),
      ]);
      const client = new AnthropicSdk({ baseURL: baseUrl, apiKey: 'sk-ant-bench', maxRetries: options.retries ?? 0, timeout: TIMEOUT_MS });
      // The same body Baton's client sends (built by the same conversion).
      const built: AnthropicRequest = toAnthropicRequest(REQUEST, { maxTokens: 1024, cache: true });
      const body = built as unknown as MessagesBody;
      return {
        async call(key, signal) {
          const r = await client.messages.create(body, requestOptions(key, signal, options.keyVia));
          const use = r.content.find((b) => b.type === 'tool_use');
          return use?.type === 'tool_use' ? use.name : '';
        },
        close() {},
      };
    }
  }
}

function requestOptions(key: string, signal: AbortSignal, keyVia: ClientOptions['keyVia'] = 'headers') {
  const session = { 'x-baton-session-id': sessionOf(key) };
  return keyVia === 'option' ? { signal, idempotencyKey: key, headers: session } : { signal, headers: { ...session, 'idempotency-key': key } };
}
