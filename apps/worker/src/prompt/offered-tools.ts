import type { Mode, ModeRegistry } from '../modes/modes';
import { modeToolNames } from '../modes/tool-list';
import type { OpenAiTool, ToolRegistry } from '../tools/tool-registry';
import { withModeEnums } from './mode-enum';

/** The tools a mode is offered, as every request made in that mode sends them. */
export interface OfferedTools {
  /** Names, in the order the request lists them. */
  readonly names: readonly string[];
  readonly nameSet: ReadonlySet<string>;
  /** The request's `tools`, mode-valued arguments with their enum; shared by every request of the mode (frozen). */
  readonly tools: readonly OpenAiTool[];
}

interface Entry {
  modes: ModeRegistry;
  tools: ToolRegistry;
  modesRevision: number;
  toolsRevision: number;
  offered: OfferedTools;
}

/**
 * Built once per mode and registry state, not per request: the list depends
 * only on the mode and the two registries, and rebuilding it (with the mode
 * enums and their descriptions) on every turn was a visible share of a
 * worker's CPU per task. A registration in either registry makes the entry
 * stale (their revision moved), so a late tool or mode is still offered.
 */
const cache = new WeakMap<Mode, Entry>();

export function offeredTools(mode: Mode, modes: ModeRegistry, tools: ToolRegistry): OfferedTools {
  const hit = cache.get(mode);
  if (hit && hit.modes === modes && hit.tools === tools && hit.modesRevision === modes.revision && hit.toolsRevision === tools.revision) {
    return hit.offered;
  }
  const names = Object.freeze(modeToolNames(mode, tools));
  const offered: OfferedTools = {
    names,
    nameSet: new Set(names),
    tools: Object.freeze(withModeEnums(tools.openAiTools(names), modes.list()).map(freezeTool)),
  };
  cache.set(mode, { modes, tools, modesRevision: modes.revision, toolsRevision: tools.revision, offered });
  return offered;
}

/** A tool's name and description are fixed once offered (the system prompt built from them is kept, see buildSystemPrompt). */
function freezeTool(tool: OpenAiTool): OpenAiTool {
  Object.freeze(tool.function);
  return Object.freeze(tool);
}
