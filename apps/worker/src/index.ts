/**
 * Public API of @baton/worker, for users who run the worker with their own
 * tools, modes or provider (the process entry is `main.ts`).
 */
export { WorkerApp, type WorkerAppOptions } from './worker-app';
export { EnvSchema, parseEnv, loadEnv, EnvError, type Env } from './env';
export { ModeRegistry, ModeSchema, BUILT_IN_MODES, loadModes, parseModesFile, type Mode } from './modes/modes';
export {
  ToolRegistry,
  defineTool,
  BUILT_IN_TOOLS,
  NewTaskArgsSchema,
  AttemptCompletionArgsSchema,
  type ToolDefinition,
  type ToolContext,
  type OpenAiTool,
} from './tools/tool-registry';
export { createAgentHandler, type AgentOptions } from './agent/agent-loop';
export {
  ProviderError,
  ModelResponseSchema,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type ModelCallContext,
  type ProviderObserver,
} from './providers/model-provider';
export { OpenAiProvider, type OpenAiProviderOptions } from './providers/openai-provider';
export { DemoModel } from './providers/demo-model';
export { WorkerMetrics } from './metrics';
export { type ToolGroup, type ToolRegistryOptions } from './tools/tool-registry';
export { WORKSPACE_TOOLS, workspaceTools, applySearchReplace, commandEnv, type ExecuteCommandOptions } from './tools/builtin';
export { isJournaled, interruptedMessage } from './agent/tool-journal';
