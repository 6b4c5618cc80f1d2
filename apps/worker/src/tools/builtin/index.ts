import type { ToolDefinition } from '../tool-types';
import { applyDiffTool } from './apply-diff';
import { executeCommandTool, type ExecuteCommandOptions } from './execute-command';
import { listFilesTool } from './list-files';
import { readFileTool } from './read-file';
import { searchFilesTool } from './search-files';
import { writeToFileTool } from './write-to-file';

/**
 * The workspace tools (KiloCode/Roo vocabulary). Built into every
 * ToolRegistry: user tools cannot take their names. Each works only inside
 * the task's session workspace (`ctx.workspace`).
 */
export function workspaceTools(options: { command?: ExecuteCommandOptions } = {}): ToolDefinition[] {
  return [readFileTool, writeToFileTool, applyDiffTool, listFilesTool, searchFilesTool, executeCommandTool(options.command)] as ToolDefinition[];
}

/** The workspace tools with default limits. */
export const WORKSPACE_TOOLS: readonly ToolDefinition[] = workspaceTools();

export { applyDiffTool, executeCommandTool, listFilesTool, readFileTool, searchFilesTool, writeToFileTool };
export type { ExecuteCommandOptions };
export { applySearchReplace, parseBlocks } from './search-replace';
export { commandEnv, DEFAULT_COMMAND_MAX_TIMEOUT_MS, DEFAULT_COMMAND_PATH, DEFAULT_COMMAND_TIMEOUT_MS } from './execute-command';
