import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModes, parseModesFile } from './modes';

describe('modes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-modes-'));

  it('has the built-in modes with their tools', () => {
    const modes = loadModes();
    expect(modes.names()).toEqual(['orchestrator', 'code', 'ask', 'architect', 'debug']);
    expect(modes.get('orchestrator')?.tools).toEqual(['new_task', 'attempt_completion']);
    expect(modes.get('debug')?.tools).toEqual(['attempt_completion']);
  });

  it('adds and overrides modes from a YAML or JSON file', () => {
    const yamlFile = join(dir, 'modes.yaml');
    writeFileSync(
      yamlFile,
      'modes:\n  - name: reviewer\n    systemPrompt: You review.\n    model: gpt-x\n  - name: code\n    systemPrompt: Custom coder.\n    tools: [attempt_completion, read_file]\n',
    );
    const modes = loadModes(yamlFile);
    expect(modes.get('reviewer')).toEqual({ name: 'reviewer', systemPrompt: 'You review.', model: 'gpt-x', tools: ['attempt_completion'] });
    expect(modes.get('code')?.systemPrompt).toBe('Custom coder.');
    expect(modes.unknownTools((t) => t !== 'read_file')).toEqual(['mode code: unknown tool read_file']);

    const jsonFile = join(dir, 'modes.json');
    writeFileSync(jsonFile, JSON.stringify([{ name: 'ask', systemPrompt: 'Short answers.' }]));
    expect(loadModes(jsonFile).get('ask')?.systemPrompt).toBe('Short answers.');
  });

  it('rejects an invalid file with the path of each problem', () => {
    expect(() => parseModesFile('[{"name": "bad name", "tools": "x"}]', 'm.json')).toThrow(
      /MODES_FILE m\.json is invalid:\n {2}- 0\.name: .*\n {2}- 0\.systemPrompt: .*\n {2}- 0\.tools: /,
    );
    expect(() => parseModesFile('{ nope', 'm.json')).toThrow(/not valid JSON/);
    expect(() => loadModes(join(dir, 'missing.yaml'))).toThrow(/cannot be read/);
  });
});
