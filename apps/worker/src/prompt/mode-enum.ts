import type { Mode } from '../modes/mode-schema';
import type { OpenAiTool } from '../tools/tool-registry';
import { whenToUse } from './system-prompt';

/** The mode-valued argument of each tool that takes one. */
const MODE_ARGUMENT: Record<string, string> = { new_task: 'mode', switch_mode: 'mode_slug' };

/**
 * Gives `new_task.mode` and `switch_mode.mode_slug` an `enum` of the known
 * mode slugs, each described by its whenToUse in the argument's description
 * (JSON Schema's enum has no per-value description that every provider
 * accepts). The call is still validated at run time: a model may ignore the enum.
 */
export function withModeEnums(tools: readonly OpenAiTool[], modes: readonly Mode[]): OpenAiTool[] {
  return tools.map((tool) => {
    const argument = MODE_ARGUMENT[tool.function.name];
    const parameters = tool.function.parameters as { properties?: Record<string, Record<string, unknown>> };
    if (!argument || !parameters.properties?.[argument]) return tool;
    const description = ['One of:', ...modes.map((m) => `- ${m.slug}: ${whenToUse(m)}`)].join('\n');
    return {
      ...tool,
      function: {
        ...tool.function,
        parameters: {
          ...parameters,
          properties: { ...parameters.properties, [argument]: { type: 'string', enum: modes.map((m) => m.slug), description } },
        },
      },
    };
  });
}
