/**
 * Public API of @baton/worker, for users who run the worker with their own
 * tools, modes or provider (the process entry is `main.ts`).
 */
export { WorkerApp, type WorkerAppOptions } from './worker-app';
export { EnvSchema, parseEnv, loadEnv, EnvError, type Env } from './env';
export {
  ModeRegistry,
  ModeConfigSchema,
  LegacyModeSchema,
  ModesFileSchema,
  BUILT_IN_MODES,
  TOOL_GROUPS,
  loadModes,
  parseModesFile,
  type Mode,
  type ModeConfig,
  type ModeInput,
  type ToolGroup,
  type GroupEntry,
  type ApprovalPolicy,
} from './modes/modes';
export { ALWAYS_ON_TOOLS, modeToolNames } from './modes/tool-list';
export { fileRestrictionError } from './modes/file-restriction';
export { buildSystemPrompt, type SystemPromptInput } from './prompt/system-prompt';
export { withModeEnums } from './prompt/mode-enum';
export { loadToolsModule } from './plugins/tools-module';
export { McpTools, mcpToolName } from './mcp/mcp-tools';
export { McpSettingsSchema, parseMcpSettings, loadMcpSettings, type McpSettings } from './mcp/mcp-settings';
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
export { DeltaPublisher, type DeltaPublisherOptions, type DeltaTimers, type MessageDeltaData, type ToolCallDelta } from './agent/delta-publisher';
export {
  ProviderError,
  ModelResponseSchema,
  type ModelProvider,
  type ModelRequest,
  type ModelResponse,
  type ModelCallContext,
  type ModelDelta,
  type ProviderObserver,
} from './providers/model-provider';
export { OpenAiProvider, type OpenAiProviderOptions } from './providers/openai-provider';
export { AnthropicProvider, type AnthropicProviderOptions } from './providers/anthropic/anthropic-provider';
export { DemoModel } from './providers/demo-model';
export { WorkerMetrics } from './metrics';
export { type ToolRegistryOptions } from './tools/tool-registry';
export { WORKSPACE_TOOLS, workspaceTools, applySearchReplace, commandEnv, type ExecuteCommandOptions } from './tools/builtin';
export { isJournaled, interruptedMessage } from './agent/tool-journal';
export { SharedLimiter, limiterScope, type ProviderLimiter, type SharedLimiterOptions } from './providers/shared-limiter';
export { parseRateLimitHeaders, parseGoDuration, type RateLimitSignal } from './providers/rate-limit-headers';
