import type { UsageConfig } from '@baton/core';
import type { WorkerMetrics } from '../metrics';
import type { Mode, ModeRegistry } from '../modes/modes';
import type { ModelProvider } from '../providers/model-provider';
import type { ToolRegistry } from '../tools/tool-registry';
import type { CondenseOptions } from './condense/condense';
import type { DeltaPublisherOptions } from './delta-publisher';

/**
 * What the agent loop and its tool-call runner are built with (its own file, so
 * that neither imports the other for it).
 */
export interface AgentOptions {
  modes: ModeRegistry;
  tools: ToolRegistry;
  /** The default provider: that of a mode without `provider`, and of every mode when providerFor is absent. */
  provider: ModelProvider;
  /** The provider of a mode (a mode's `provider`, see providers/provider-registry); asked before every model request. */
  providerFor?: (mode: Mode) => ModelProvider;
  /** Model name when the mode does not set one. */
  defaultModel: string;
  maxTurns: number;
  /** Text-only replies answered with a "use a tool" nudge in a row before the task fails with NO_TOOL_USE (MAX_NO_TOOL_NUDGES). */
  maxNoToolNudges?: number;
  metrics?: WorkerMetrics;
  /** Absolute WORKSPACE_ROOT: a session's workspace is `<root>/<tenant>/<session>`. */
  workspaceRoot: string;
  /** Context condensing (agent/condense); absent: conversations are never condensed. */
  condense?: CondenseOptions;
  /** Prices and budgets: each turn is checked against the budgets and its usage recorded (usage-metering). */
  usage?: UsageConfig;
  /**
   * Streaming: a streamed turn's deltas go out as `message.delta` events (agent/delta-publisher).
   * Absent: nobody listens to the provider's deltas. A provider that does not stream never sends any.
   */
  deltas?: DeltaPublisherOptions;
}
