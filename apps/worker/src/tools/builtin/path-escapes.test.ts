import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workspaceFixture, type WorkspaceFixture } from '../../test-utils/workspace-fixture';
import type { ToolDefinition } from '../tool-registry';
import { applyDiffTool } from './apply-diff';
import { executeCommandTool } from './execute-command';
import { listFilesTool } from './list-files';
import { readFileTool } from './read-file';
import { searchFilesTool } from './search-files';
import { writeToFileTool } from './write-to-file';

/**
 * Every path-taking workspace tool refuses a path leading out of the session's
 * folder: `..`, absolute, through a symlink that points outside, through a
 * dangling symlink. Nothing outside is read or changed.
 */
describe('workspace tools refuse paths outside the workspace', () => {
  let fx: WorkspaceFixture;
  let outside: string;

  beforeAll(async () => {
    fx = workspaceFixture();
    await fx.workspace.ensure();
    outside = join(fx.root, 'outside');
    mkdirSync(outside);
    writeFileSync(join(outside, 'secret.txt'), 'secret\n');
    // Another session of the same tenant is "outside" too.
    mkdirSync(join(fx.root, 'tenant1', 'session2'), { recursive: true });
    writeFileSync(join(fx.root, 'tenant1', 'session2', 'secret.txt'), 'secret\n');
    symlinkSync(outside, fx.abs('out'));
    symlinkSync(join(outside, 'secret.txt'), fx.abs('secret-link.txt'));
    symlinkSync(join(fx.root, 'nowhere', 'x'), fx.abs('dangling'));
  });
  afterAll(() => fx.cleanup());

  const bad: [string, string, RegExp][] = [
    ['..', '../session2/secret.txt', /leads outside the workspace/],
    ['absolute', '/etc/passwd', /absolute paths are not allowed/],
    ['symlink to a folder outside', 'out/secret.txt', /symbolic link that points outside/],
    ['symlink to a file outside', 'secret-link.txt', /symbolic link that points outside/],
    ['dangling symlink', 'dangling', /symbolic link whose target does not exist/],
  ];

  const calls: [string, ToolDefinition, (path: string) => unknown][] = [
    ['read_file', readFileTool, (path) => ({ path })],
    ['write_to_file', writeToFileTool, (path) => ({ path, content: 'pwned\n' })],
    ['apply_diff', applyDiffTool, (path) => ({ path, diff: '<<<<<<< SEARCH\nsecret\n=======\npwned\n>>>>>>> REPLACE' })],
    ['list_files', listFilesTool, (path) => ({ path, recursive: true })],
    ['search_files', searchFilesTool, (path) => ({ path, regex: 'secret' })],
    ['execute_command (cwd)', executeCommandTool(), (path) => ({ command: 'cat secret.txt; echo pwned > pwned.txt', cwd: path })],
  ];

  for (const [toolName, tool, args] of calls) {
    for (const [what, path, reason] of bad) {
      it(`${toolName}: ${what} (${path}) is refused`, async () => {
        await expect(fx.call(tool, args(path))).rejects.toMatchObject({ code: 'WORKSPACE_PATH', message: expect.stringMatching(reason) });
        expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('secret\n');
        expect(readFileSync(join(fx.root, 'tenant1', 'session2', 'secret.txt'), 'utf8')).toBe('secret\n');
        expect(existsSync(join(fx.root, 'nowhere'))).toBe(false);
        expect(existsSync(join(outside, 'pwned.txt'))).toBe(false);
      });
    }
  }

  it('list_files lists a symlink but does not follow it out', async () => {
    const out = await fx.call(listFilesTool, { path: '.', recursive: true });
    expect(out.split('\n').sort()).toEqual(['dangling', 'out', 'secret-link.txt']);
  });

  it('search_files does not read through symlinks', async () => {
    expect(await fx.call(searchFilesTool, { path: '.', regex: 'secret' })).toBe('no matches for /secret/ in the workspace');
  });
});
