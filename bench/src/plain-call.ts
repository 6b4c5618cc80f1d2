/**
 * What a user would write instead of Baton: a plain BullMQ processor making
 * the same provider call per job (same OpenAI-compatible client on node:http
 * keep-alive, same request body and headers), with no lanes, gate or
 * conversation store.
 */
import { BUILT_IN_MODES, buildSystemPrompt, modeToolNames, OpenAiProvider, ToolRegistry, withModeEnums, type ModelRequest } from '@baton/worker';
import pino from 'pino';

const codeMode = BUILT_IN_MODES.find((m) => m.slug === 'code')!;
const tools = new ToolRegistry([]);
// The tools and system prompt the worker sends for a code task.
const offered = withModeEnums(tools.openAiTools(modeToolNames(codeMode, tools)), BUILT_IN_MODES);
const silent = pino({ level: 'silent' });

export function plainProvider(providerUrl: string): OpenAiProvider {
  return new OpenAiProvider({ baseUrl: `${providerUrl}/v1`, apiKey: 'sk-bench', timeoutMs: 30_000, maxAttempts: 5, backoff: { baseMs: 500, maxMs: 30_000 } });
}

export function singleTurnRequest(prompt: string): ModelRequest {
  return {
    model: 'fake-model',
    messages: [
      { role: 'system', content: buildSystemPrompt({ mode: codeMode, modes: BUILT_IN_MODES, tools: offered }) },
      { role: 'user', content: prompt },
    ],
    tools: offered,
  };
}

/** One provider call for a job; returns the attempt_completion result (or the text). */
export async function plainCall(provider: OpenAiProvider, sessionId: string, jobId: string, prompt: string): Promise<string> {
  const response = await provider.complete(singleTurnRequest(prompt), {
    signal: new AbortController().signal,
    idempotencyKey: `${jobId}:1`,
    sessionId,
    logger: silent,
  });
  const call = response.message.tool_calls?.[0];
  return call ? call.function.arguments : (response.message.content ?? '');
}
