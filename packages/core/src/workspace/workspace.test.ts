import { existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Workspace } from './workspace';

describe('Workspace', () => {
  let root: string;
  let ws: Workspace;
  beforeEach(() => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'baton-core-ws-')));
    ws = Workspace.of(root, 'acme', 'sess-1');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('is <root>/<tenant>/<session>, created on first use', async () => {
    expect(ws.dir).toBe(join(root, 'acme', 'sess-1'));
    expect(existsSync(ws.dir)).toBe(false);
    expect(await ws.ensure()).toBe(join(root, 'acme', 'sess-1'));
    expect(existsSync(ws.dir)).toBe(true);
    expect(Workspace.of('relative/root', 't', 's').dir).toBe(join(process.cwd(), 'relative/root', 't', 's'));
  });

  it('refuses tenants and sessions that are not ids', () => {
    for (const [tenant, session] of [
      ['..', 's'],
      ['t', '..'],
      ['.', 's'],
      ['a/b', 's'],
      ['t', 's/../x'],
      ['', 's'],
    ]) {
      expect(() => Workspace.of(root, tenant!, session!)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    }
  });

  it('resolves relative paths inside it, existing or not', async () => {
    expect(await ws.resolve('')).toBe(ws.dir);
    expect(await ws.resolve('.')).toBe(ws.dir);
    expect(await ws.resolve('a/b/../c.txt')).toBe(join(ws.dir, 'a', 'c.txt'));
    expect(await ws.resolve('./new/deep/file')).toBe(join(ws.dir, 'new', 'deep', 'file'));
    expect(ws.relative(join(ws.dir, 'a', 'c.txt'))).toBe('a/c.txt');
    expect(ws.relative(ws.dir)).toBe('.');
  });

  it('refuses absolute paths, .. out of it and NUL bytes', async () => {
    await expect(ws.resolve('/etc/passwd')).rejects.toMatchObject({
      code: 'WORKSPACE_PATH',
      message: expect.stringContaining('absolute paths are not allowed'),
    });
    await expect(ws.resolve('..')).rejects.toMatchObject({ code: 'WORKSPACE_PATH', message: expect.stringContaining('leads outside the workspace') });
    await expect(ws.resolve('a/../../sess-2/x')).rejects.toMatchObject({ code: 'WORKSPACE_PATH' });
    await expect(ws.resolve('C:\\x')).rejects.toMatchObject({ code: 'WORKSPACE_PATH' });
    await expect(ws.resolve('a\0b')).rejects.toMatchObject({ code: 'WORKSPACE_PATH', message: expect.stringContaining('NUL') });
  });

  it('follows symlinks that stay inside, refuses those that point out or dangle', async () => {
    const dir = await ws.ensure();
    mkdirSync(join(dir, 'real'));
    writeFileSync(join(dir, 'real', 'f.txt'), 'x');
    mkdirSync(join(root, 'outside'));
    symlinkSync(join(dir, 'real'), join(dir, 'inside-link'));
    symlinkSync(join(root, 'outside'), join(dir, 'out-link'));
    symlinkSync('../../outside', join(dir, 'relative-out'));
    symlinkSync(join(root, 'missing', 'target'), join(dir, 'dangling'));

    expect(await ws.resolve('inside-link/f.txt')).toBe(join(dir, 'real', 'f.txt'));
    expect(await ws.resolve('inside-link/new.txt')).toBe(join(dir, 'real', 'new.txt'));
    for (const path of ['out-link', 'out-link/new/file.txt', 'relative-out/x']) {
      await expect(ws.resolve(path)).rejects.toMatchObject({ code: 'WORKSPACE_PATH', message: expect.stringContaining('points outside the workspace') });
    }
    for (const path of ['dangling', 'dangling/below']) {
      await expect(ws.resolve(path)).rejects.toMatchObject({ code: 'WORKSPACE_PATH', message: expect.stringContaining('target does not exist') });
    }
  });

  it('a workspace root reached through a symlink still works (the real path is the reference)', async () => {
    const link = join(root, 'link-root');
    symlinkSync(root, link);
    const viaLink = Workspace.of(link, 'acme', 'sess-1');
    expect(await viaLink.resolve('a.txt')).toBe(join(root, 'acme', 'sess-1', 'a.txt'));
  });
});
