import { z } from 'zod';
import { defineTool, ToolRegistry } from '../tool-registry';
import { WORKSPACE_TOOLS } from './index';

describe('workspace tools in the ToolRegistry', () => {
  const names = ['read_file', 'write_to_file', 'apply_diff', 'list_files', 'search_files', 'execute_command'];

  it('are built in, with their groups, and user tools cannot replace them', () => {
    expect(WORKSPACE_TOOLS.map((t) => [t.name, t.group])).toEqual([
      ['read_file', 'read'],
      ['write_to_file', 'edit'],
      ['apply_diff', 'edit'],
      ['list_files', 'read'],
      ['search_files', 'read'],
      ['execute_command', 'command'],
    ]);
    const registry = new ToolRegistry();
    for (const name of names) {
      expect(registry.has(name)).toBe(true);
      const impostor = defineTool({ name, description: 'x', schema: z.object({}), handler: async () => 'x' });
      expect(() => registry.register(impostor)).toThrow(`tool ${name} is built in`);
    }
  });

  it('send strict JSON schemas with a description on every field', () => {
    for (const tool of new ToolRegistry().openAiTools(names)) {
      const parameters = tool.function.parameters as { additionalProperties: boolean; properties: Record<string, { description?: string }> };
      expect(parameters.additionalProperties).toBe(false);
      for (const [field, schema] of Object.entries(parameters.properties)) {
        expect([tool.function.name, field, typeof schema.description]).toEqual([tool.function.name, field, 'string']);
      }
    }
  });

  it('execute_command takes its limits from the registry options', () => {
    const registry = new ToolRegistry([], { command: { maxTimeoutMs: 1234 } });
    expect(registry.get('execute_command')!.description).toContain('at most 1234 ms');
  });
});
