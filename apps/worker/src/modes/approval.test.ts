import { ToolRegistry } from '../tools/tool-registry';
import { needsApproval as approvalOf } from './approval';

// Tools as the runner passes them: their definitions (MCP and user tools stand in with their group).
const registry = new ToolRegistry();
const needsApproval = (mode: unknown, name: string) => approvalOf(mode, registry.get(name) ?? { name, ...(name.startsWith('mcp__') ? { group: 'mcp' } : {}) });

describe('needsApproval', () => {
  test('default: execute_command asks, everything else runs', () => {
    const mode = { name: 'code', systemPrompt: 'x', tools: [] };
    expect(needsApproval(mode, 'execute_command')).toBe(true);
    for (const tool of ['read_file', 'write_to_file', 'apply_diff', 'new_task', 'mcp__srv__tool', 'my_tool']) expect(needsApproval(mode, tool)).toBe(false);
  });

  test("a mode's approval map: the tool's own entry, then its group's, then the default", () => {
    const mode = { name: 'm', approval: { edit: 'ask', command: 'auto', read_file: 'ask', mcp: 'ask', apply_diff: 'auto' } };
    expect(needsApproval(mode, 'execute_command')).toBe(false);
    expect(needsApproval(mode, 'write_to_file')).toBe(true);
    expect(needsApproval(mode, 'apply_diff')).toBe(false);
    expect(needsApproval(mode, 'read_file')).toBe(true);
    expect(needsApproval(mode, 'list_files')).toBe(false);
    expect(needsApproval(mode, 'mcp__github__create_issue')).toBe(true);
    expect(needsApproval({ approval: { execute_command: 'ask', command: 'auto' } }, 'execute_command')).toBe(true);
  });

  test('a missing or malformed approval field falls back to the default', () => {
    for (const mode of [undefined, null, {}, { approval: null }, { approval: ['ask'] }, { approval: { execute_command: 'maybe' } }]) {
      expect(needsApproval(mode, 'execute_command')).toBe(true);
      expect(needsApproval(mode, 'read_file')).toBe(false);
    }
  });
});
