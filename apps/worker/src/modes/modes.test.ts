import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { withModeEnums } from '../prompt/mode-enum';
import { buildSystemPrompt } from '../prompt/system-prompt';
import { ToolRegistry, defineTool } from '../tools/tool-registry';
import { fileRestrictionError } from './file-restriction';
import { loadModes, ModeRegistry, parseModesFile } from './modes';
import { modeToolNames } from './tool-list';

const noop = async () => 'ok';
// The built-in workspace tools (read_file, write_to_file, execute_command, ...) plus an MCP-like and an ungrouped user tool.
const workspaceTools = () =>
  new ToolRegistry([
    defineTool({ name: 'mcp__s__t', description: 'An MCP tool', group: 'mcp', schema: z.object({}), handler: noop }),
    defineTool({ name: 'lookup', description: 'Ungrouped user tool', schema: z.object({}), handler: noop }),
  ]);

describe('modes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-modes-'));

  it('has the built-in modes with their groups', () => {
    const modes = loadModes();
    expect(modes.slugs()).toEqual(['orchestrator', 'code', 'ask', 'architect', 'debug']);
    expect(modes.get('orchestrator')?.groups).toEqual([]);
    expect(modes.get('code')?.groups).toEqual(['read', 'edit', 'command']);
    expect(modes.get('architect')?.groups).toEqual(['read', ['edit', { fileRegex: '\\.md$', description: 'Markdown files only' }]]);
    expect(modes.get('debug')?.groups).toEqual(['read', 'edit', 'command', 'mcp']);
    for (const m of modes.list()) expect(m.whenToUse).toBeTruthy();
  });

  it("reads KiloCode's custom modes file (YAML customModes) and a plain JSON list, overriding built-ins by slug", () => {
    const yamlFile = join(dir, 'custom_modes.yaml');
    writeFileSync(
      yamlFile,
      [
        'customModes:',
        '  - slug: docs-writer',
        '    name: 📝 Documentation Writer',
        '    roleDefinition: You write documentation.',
        '    whenToUse: Use for docs.',
        '    customInstructions: Be brief.',
        '    groups:',
        '      - read',
        '      - - edit',
        '        - fileRegex: \\.(md|mdx)$',
        '          description: Markdown files only',
        '    source: global',
        '    model: gpt-x',
        '    approval: { execute_command: auto, edit: ask }',
      ].join('\n'),
    );
    const modes = loadModes(yamlFile);
    expect(modes.get('docs-writer')).toEqual({
      slug: 'docs-writer',
      name: '📝 Documentation Writer',
      roleDefinition: 'You write documentation.',
      whenToUse: 'Use for docs.',
      customInstructions: 'Be brief.',
      groups: ['read', ['edit', { fileRegex: '\\.(md|mdx)$', description: 'Markdown files only' }]],
      model: 'gpt-x',
      approval: { execute_command: 'auto', edit: 'ask' },
    });
    const jsonFile = join(dir, 'modes.json');
    writeFileSync(jsonFile, JSON.stringify([{ slug: 'ask', name: 'Ask', roleDefinition: 'Short answers.', groups: ['read'] }]));
    expect(loadModes(jsonFile).get('ask')?.roleDefinition).toBe('Short answers.');
  });

  it("still reads today's format ({name, systemPrompt, tools}) as a mode with exactly those tools", () => {
    const modes = parseModesFile('modes:\n  - name: reviewer\n    systemPrompt: You review.\n    tools: [attempt_completion, lookup]\n', 'm.yaml');
    expect(modes[0]).toMatchObject({ slug: 'reviewer', roleDefinition: 'You review.', groups: [], legacyTools: ['attempt_completion', 'lookup'] });
    const registry = new ModeRegistry(modes);
    expect(modeToolNames(registry.get('reviewer')!, workspaceTools())).toEqual(['attempt_completion', 'lookup']);
    // Its prompt is its own, unchanged.
    expect(buildSystemPrompt({ mode: registry.get('reviewer')!, modes: registry.list(), tools: [] })).toBe('You review.');
    expect(registry.unknownTools((t) => t !== 'lookup')).toEqual(['mode reviewer: unknown tool lookup']);
  });

  it('rejects an invalid file with the path of each problem (slug with a dot, unknown group, bad fileRegex)', () => {
    const bad = JSON.stringify({
      customModes: [
        { slug: 'a.b', name: 'A', roleDefinition: 'r', groups: ['read'] },
        { slug: 'c', name: 'C', roleDefinition: 'r', groups: ['browser'] },
        { slug: 'd', name: 'D', roleDefinition: 'r', groups: [['edit', { fileRegex: '(' }]] },
      ],
    });
    expect(() => parseModesFile(bad, 'm.json')).toThrow(
      /^MODES_FILE m\.json is invalid:\n✖ mode slugs are .*no dots.*\n {2}→ at \[0\]\.slug\n✖ .*\n {2}→ at \[1\]\.groups\[0\]\n✖ fileRegex is not a valid regular expression.*\n {2}→ at \[2\]\.groups\[0\]\[1\]\.fileRegex$/,
    );
    expect(() => parseModesFile('[{"name": "x", "systemPrompt": "p", "tools": "x"}]', 'm.json')).toThrow(/→ at \[0\]\.tools/);
    expect(() => parseModesFile('[{"slug": "x", "name": "X", "roleDefinition": "r", "rolDefinition": "typo"}]', 'm.json')).toThrow(/rolDefinition/);
    expect(() => parseModesFile('{ nope', 'm.json')).toThrow(/not valid JSON/);
    expect(() => loadModes(join(dir, 'missing.yaml'))).toThrow(/cannot be read/);
  });

  it("offers a mode its groups' tools, its own tools and the always-on tools", () => {
    const modes = loadModes();
    const tools = workspaceTools();
    const always = ['ask_followup_question', 'attempt_completion', 'switch_mode', 'new_task', 'update_todo_list'];
    const read = ['read_file', 'list_files', 'search_files'];
    expect(modeToolNames(modes.get('orchestrator')!, tools)).toEqual(always);
    expect(modeToolNames(modes.get('ask')!, tools).sort()).toEqual([...read, ...always].sort());
    expect(modeToolNames(modes.get('code')!, tools).sort()).toEqual([...read, 'write_to_file', 'apply_diff', 'execute_command', ...always].sort());
    expect(modeToolNames(modes.get('debug')!, tools)).toContain('mcp__s__t');
    const withExtra = new ModeRegistry([{ slug: 'x', name: 'X', roleDefinition: 'r', groups: [], tools: ['lookup'] }]);
    expect(modeToolNames(withExtra.get('x')!, tools)).toContain('lookup');
  });

  it("enforces a group's fileRegex at call time, naming the regex", () => {
    const architect = loadModes().get('architect')!;
    const write = { name: 'write_to_file', group: 'edit' as const };
    expect(fileRestrictionError(architect, write, { path: 'docs/plan.md' })).toBeUndefined();
    expect(fileRestrictionError(architect, write, { path: './README.md' })).toBeUndefined();
    expect(fileRestrictionError(architect, write, { path: 'src/app.ts' })).toBe(
      'error: write_to_file refused: in mode "architect" the edit tools may only touch paths matching /\\.md$/ (Markdown files only), and "src/app.ts" does not. ' +
        'Use a matching path, or switch_mode to a mode that may edit it.',
    );
    // Read tools and other modes are not restricted.
    expect(fileRestrictionError(architect, { name: 'read_file', group: 'read' }, { path: 'src/app.ts' })).toBeUndefined();
    expect(fileRestrictionError(loadModes().get('code')!, write, { path: 'src/app.ts' })).toBeUndefined();
  });

  it('builds the system prompt from the mode: role, tools, workspace rules, modes with whenToUse, instructions', () => {
    const modes = loadModes();
    const tools = workspaceTools();
    const architect = modes.get('architect')!;
    const offered = tools.openAiTools(modeToolNames(architect, tools));
    const prompt = buildSystemPrompt({ mode: architect, modes: modes.list(), tools: offered });
    expect(prompt.startsWith(architect.roleDefinition)).toBe(true);
    expect(prompt).toMatch(/^- read_file: \S/m);
    expect(prompt).not.toContain('execute_command:');
    expect(prompt).toContain('Every path is relative to it');
    expect(prompt).toContain('may only touch paths matching /\\.md$/');
    expect(prompt).toContain(`- code (Code): ${modes.get('code')!.whenToUse}`);
    expect(prompt).toMatch(/^Current mode: architect \(Architect\)$/m);
    expect(prompt).toContain('MODE-SPECIFIC INSTRUCTIONS');
  });

  it('gives new_task.mode and switch_mode.mode_slug an enum of the mode slugs described by whenToUse', () => {
    const modes = loadModes();
    const tools = new ToolRegistry();
    const [newTask, switchMode] = withModeEnums(tools.openAiTools(['new_task', 'switch_mode']), modes.list());
    const mode = (newTask!.function.parameters as { properties: Record<string, { enum: string[]; description: string }> }).properties.mode!;
    expect(mode.enum).toEqual(['orchestrator', 'code', 'ask', 'architect', 'debug']);
    expect(mode.description).toContain(`- debug: ${modes.get('debug')!.whenToUse}`);
    expect((switchMode!.function.parameters as { properties: Record<string, { enum: string[] }> }).properties.mode_slug!.enum).toHaveLength(5);
    expect((newTask!.function.parameters as { properties: Record<string, unknown> }).properties.todos).toBeDefined();
  });
});
