import { z } from 'zod';
import { loadModes } from '../modes/modes';
import { modeToolNames } from '../modes/tool-list';
import { defineTool, ToolRegistry } from '../tools/tool-registry';
import { toolsJson } from '../tools/tools-json';
import { withModeEnums } from './mode-enum';
import { offeredTools } from './offered-tools';
import { buildSystemPrompt } from './system-prompt';

const noop = async () => 'ok';

describe('offered tools (built once per mode and registry state)', () => {
  it('are what the mode is offered, the same frozen list on every call, with the same system prompt', () => {
    const modes = loadModes();
    const tools = new ToolRegistry();
    const code = modes.get('code')!;
    const offered = offeredTools(code, modes, tools);
    expect(offered.names).toEqual(modeToolNames(code, tools));
    expect(offered.tools).toEqual(withModeEnums(tools.openAiTools(modeToolNames(code, tools)), modes.list()));
    expect(offered.nameSet.has('attempt_completion')).toBe(true);
    expect(Object.isFrozen(offered.tools) && Object.isFrozen(offered.tools[0])).toBe(true);
    expect(offeredTools(code, modes, tools)).toBe(offered);

    const fresh = buildSystemPrompt({ mode: code, modes: modes.list(), tools: [...offered.tools] });
    const kept = buildSystemPrompt({ mode: code, modes: modes.list(), tools: offered.tools });
    expect(kept).toBe(fresh);
    expect(buildSystemPrompt({ mode: code, modes: modes.list(), tools: offered.tools })).toBe(kept);
    // Another mode with the same list is not given the first one's prompt.
    const debug = modes.get('debug')!;
    expect(buildSystemPrompt({ mode: debug, modes: modes.list(), tools: offered.tools })).toContain('Current mode: debug');
    expect(toolsJson(offered.tools)).toBe(JSON.stringify(offered.tools));
  });

  it('follow a tool or mode registered later', () => {
    const modes = loadModes();
    const tools = new ToolRegistry();
    const code = modes.get('code')!;
    const before = offeredTools(code, modes, tools);
    tools.register(defineTool({ name: 'lookup', description: 'A late user tool', schema: z.object({}), handler: noop }));
    modes.set({ slug: 'review', name: 'Review', roleDefinition: 'You review code.', groups: ['read'], tools: ['lookup'] });
    const review = modes.get('review')!;
    const after = offeredTools(code, modes, tools);
    expect(after).not.toBe(before);
    const newTask = after.tools.find((t) => t.function.name === 'new_task')!;
    expect((newTask.function.parameters as { properties: { mode: { enum: string[] } } }).properties.mode.enum).toContain('review');
    expect(buildSystemPrompt({ mode: code, modes: modes.list(), tools: after.tools })).toContain('- review (Review)');
    expect(offeredTools(review, modes, tools).nameSet.has('lookup')).toBe(true);
  });
});
