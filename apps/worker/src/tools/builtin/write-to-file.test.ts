import { readFileSync } from 'node:fs';
import { workspaceFixture, type WorkspaceFixture } from '../../test-utils/workspace-fixture';
import { writeToFileTool } from './write-to-file';

describe('write_to_file', () => {
  let fx: WorkspaceFixture;
  beforeEach(() => (fx = workspaceFixture()));
  afterEach(() => fx.cleanup());

  it('creates a file and its parent folders, then overwrites it', async () => {
    expect(await fx.call(writeToFileTool, { path: 'a/b/c.md', content: '# T\n\nbody\n' })).toBe('created a/b/c.md (3 lines)');
    expect(readFileSync(fx.abs('a/b/c.md'), 'utf8')).toBe('# T\n\nbody\n');
    expect(await fx.call(writeToFileTool, { path: './a/b/c.md', content: 'x' })).toBe('overwrote a/b/c.md (1 lines)');
    expect(readFileSync(fx.abs('a/b/c.md'), 'utf8')).toBe('x');
    expect(await fx.call(writeToFileTool, { path: 'empty', content: '' })).toBe('created empty (0 lines)');
  });

  it('creates the workspace folder itself on first use', async () => {
    expect(await fx.call(writeToFileTool, { path: 'f.txt', content: 'hi\n' })).toBe('created f.txt (1 lines)');
    expect(readFileSync(`${fx.root}/tenant1/session1/f.txt`, 'utf8')).toBe('hi\n');
  });

  it('refuses to overwrite a folder', async () => {
    await fx.write('d/x', '');
    await expect(fx.call(writeToFileTool, { path: 'd', content: 'x' })).rejects.toThrow('d is a folder');
  });

  it('has a strict schema', () => {
    expect(writeToFileTool.schema.safeParse({ path: 'a' }).success).toBe(false);
    expect(writeToFileTool.schema.safeParse({ path: 'a', content: 'x', mode: 1 }).success).toBe(false);
  });
});
