import { workspaceFixture, type WorkspaceFixture } from '../../test-utils/workspace-fixture';
import { LIST_FILES_MAX_ENTRIES, listFilesTool } from './list-files';

describe('list_files', () => {
  let fx: WorkspaceFixture;
  beforeEach(async () => {
    fx = workspaceFixture();
    await fx.write('.gitignore', 'dist/\n*.log\n');
    await fx.write('.env.example', 'A=1\n');
    await fx.write('README.md', '# r\n');
    await fx.write('debug.log', 'x');
    await fx.write('dist/out.js', 'x');
    await fx.write('.git/HEAD', 'ref\n');
    await fx.write('node_modules/pkg/index.js', 'x');
    await fx.write('src/index.ts', 'x');
    await fx.write('src/lib/.gitignore', 'secret.ts\n');
    await fx.write('src/lib/secret.ts', 'x');
    await fx.write('src/lib/util.ts', 'x');
    await fx.write('src/lib/debug.log', 'x');
  });
  afterEach(() => fx.cleanup());

  it("lists one level, folders with a trailing /, skipping .git, node_modules and .gitignore'd paths", async () => {
    expect((await fx.call(listFilesTool, { path: '.' })).split('\n')).toEqual(['.env.example', '.gitignore', 'README.md', 'src/']);
  });

  it('recursive: breadth first, nested .gitignore files apply below their folder', async () => {
    expect((await fx.call(listFilesTool, { path: '.', recursive: true })).split('\n')).toEqual([
      '.env.example',
      '.gitignore',
      'README.md',
      'src/',
      'src/index.ts',
      'src/lib/',
      'src/lib/.gitignore',
      'src/lib/util.ts',
    ]);
  });

  it('a subfolder: paths stay workspace-relative and the root .gitignore still applies', async () => {
    expect((await fx.call(listFilesTool, { path: 'src/lib' })).split('\n')).toEqual(['src/lib/.gitignore', 'src/lib/util.ts']);
  });

  it(`caps at ${LIST_FILES_MAX_ENTRIES} entries and says so`, async () => {
    for (let i = 0; i < LIST_FILES_MAX_ENTRIES + 5; i++) await fx.write(`many/f${String(i).padStart(4, '0')}`, '');
    const lines = (await fx.call(listFilesTool, { path: 'many' })).split('\n');
    expect(lines).toHaveLength(LIST_FILES_MAX_ENTRIES + 1);
    expect(lines.at(-1)).toBe(`[truncated: showed the first ${LIST_FILES_MAX_ENTRIES} entries; list a subfolder to see more]`);
  });

  it('errors: a missing folder, a file, an empty folder', async () => {
    await expect(fx.call(listFilesTool, { path: 'nope' })).rejects.toThrow('nope does not exist');
    await expect(fx.call(listFilesTool, { path: 'README.md' })).rejects.toThrow('README.md is a file, not a folder; use read_file');
    await fx.write('empty/.gitignore', '*\n');
    expect(await fx.call(listFilesTool, { path: 'empty' })).toBe('empty/ is empty (or everything in it is ignored).');
  });
});
