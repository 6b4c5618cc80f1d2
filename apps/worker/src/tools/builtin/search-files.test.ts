import { workspaceFixture, type WorkspaceFixture } from '../../test-utils/workspace-fixture';
import { SEARCH_MAX_RESULTS, searchFilesTool } from './search-files';

describe('search_files', () => {
  let fx: WorkspaceFixture;
  beforeEach(async () => {
    fx = workspaceFixture();
    await fx.write('.gitignore', 'dist/\n');
    await fx.write('src/a.ts', 'import x from "y";\n\nexport function alpha() {\n  return 1;\n}\n');
    await fx.write('src/b.js', 'function beta() {}\nfunction gamma() {}\n');
    await fx.write('dist/a.js', 'function alpha() {}\n');
    await fx.write('node_modules/m/index.js', 'function alpha() {}\n');
    await fx.write('bin.dat', Buffer.from('function alpha\0'));
  });
  afterEach(() => fx.cleanup());

  it('finds matches as path:line: text with a line of context (path:line- text), skipping ignored and binary files', async () => {
    expect(await fx.call(searchFilesTool, { path: '.', regex: 'function \\w+\\(' })).toBe(
      [
        '3 matches:',
        'src/a.ts:2- ',
        'src/a.ts:3: export function alpha() {',
        'src/a.ts:4-   return 1;',
        '--',
        'src/b.js:1: function beta() {}',
        'src/b.js:2: function gamma() {}',
      ].join('\n'),
    );
  });

  it('file_pattern is a glob: a bare pattern matches file names at any depth', async () => {
    expect(await fx.call(searchFilesTool, { path: '.', regex: 'function', file_pattern: '*.js' })).toMatch(/^2 matches:\nsrc\/b\.js:1: /);
    expect(await fx.call(searchFilesTool, { path: 'src', regex: 'function', file_pattern: '**/*.ts' })).toMatch(/^1 match:\nsrc\/a\.ts:2- /);
    expect(await fx.call(searchFilesTool, { path: 'src/a.ts', regex: 'return' })).toBe(
      '1 match:\nsrc/a.ts:3- export function alpha() {\nsrc/a.ts:4:   return 1;\nsrc/a.ts:5- }',
    );
  });

  it('the regex is JavaScript syntax; an invalid one is a clear error', async () => {
    expect(await fx.call(searchFilesTool, { path: '.', regex: '(?<name>beta)\\(\\)' })).toMatch(/^1 match:/);
    await expect(fx.call(searchFilesTool, { path: '.', regex: '(unclosed' })).rejects.toThrow(/^invalid regex \(JavaScript syntax\): /);
    expect(await fx.call(searchFilesTool, { path: '.', regex: 'zeta' })).toBe('no matches for /zeta/ in the workspace');
    await expect(fx.call(searchFilesTool, { path: 'nope', regex: 'x' })).rejects.toThrow('nope does not exist');
  });

  it(`caps at ${SEARCH_MAX_RESULTS} matches and says so`, async () => {
    await fx.write('many.txt', Array.from({ length: SEARCH_MAX_RESULTS + 50 }, (_, i) => `hit ${i}`).join('\n'));
    const out = await fx.call(searchFilesTool, { path: '.', regex: '^hit', file_pattern: 'many.txt' });
    expect(out.split('\n').filter((l) => /^many\.txt:\d+: hit/.test(l))).toHaveLength(SEARCH_MAX_RESULTS);
    expect(out).toMatch(new RegExp(`\\n\\[truncated: showed the first ${SEARCH_MAX_RESULTS} matches; narrow the path, regex or file_pattern\\]$`));
  });
});
