import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI_MAIN, cleanupPrefix, runScript, startApi, testPrefix, type ApiProcess } from '@baton/testkit';
import { BatonClient } from './baton-client';
import { BatonApiError } from './errors';

/**
 * Black box: the built API process with a temporary WORKSPACE_ROOT, real
 * Redis, and the built `baton` CLI run as a process: `files put` (a folder as
 * a tar.gz, files as JSON), `files ls`, `files get`, as a user would.
 */
const KEY = 'cli-files-secret-01';
const baton = (args: string[]) => runScript(CLI_MAIN, args, env);

let prefix: string;
let api: ApiProcess;
let env: Record<string, string>;
let root: string;
let local: string;
let client: BatonClient;

beforeAll(async () => {
  prefix = testPrefix('clifiles');
  root = mkdtempSync(join(tmpdir(), 'baton-ws-'));
  local = mkdtempSync(join(tmpdir(), 'baton-local-'));
  api = await startApi(prefix, { API_KEYS: `acme:${KEY}`, WORKSPACE_ROOT: root });
  env = { BATON_URL: api.url, BATON_API_KEY: KEY };
  client = new BatonClient({ baseUrl: api.url, apiKey: KEY });
});

afterAll(async () => {
  await api?.stop();
  await cleanupPrefix(prefix);
  rmSync(root, { recursive: true, force: true });
  rmSync(local, { recursive: true, force: true });
});

describe('baton files', () => {
  it('put <folder> sends a tar.gz of its contents (symlinks left out, said on stderr); ls and get read it back', async () => {
    const project = join(local, 'project');
    mkdirSync(join(project, 'src'), { recursive: true });
    writeFileSync(join(project, 'README.md'), '# project\n');
    writeFileSync(join(project, 'src', 'main.py'), 'print("hi")\n');
    writeFileSync(join(project, 'logo.bin'), Buffer.from([0, 159, 146, 150, 255]));
    symlinkSync('/etc/passwd', join(project, 'passwd'));

    const put = await baton(['files', 'put', 'cli-f1', project]);
    expect(put.code).toBe(0);
    expect(put.stderr).toContain('skipped symbolic link');
    const uploaded = JSON.parse(put.stdout);
    expect(uploaded.sessionId).toBe('cli-f1');
    expect(uploaded.files.map((f: { path: string }) => f.path).sort()).toEqual(['README.md', 'logo.bin', 'src/main.py']);
    // On the server's disk, under the tenant's folder.
    expect(readFileSync(join(root, 'acme', 'cli-f1', 'src', 'main.py'), 'utf8')).toBe('print("hi")\n');

    const ls = await baton(['files', 'ls', 'cli-f1']);
    expect(ls.code).toBe(0);
    expect(
      ls.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => l.trim().split(/\s+/)),
    ).toEqual([
      ['10', 'README.md'],
      ['5', 'logo.bin'],
      ['0', 'src/'],
      ['12', 'src/main.py'],
    ]);
    const lsJson = JSON.parse((await baton(['files', 'ls', 'cli-f1', '--json'])).stdout);
    expect(lsJson.truncated).toBe(false);
    expect(lsJson.files).toContainEqual({ path: 'src/main.py', type: 'file', size: 12 });

    const cat = await baton(['files', 'get', 'cli-f1', 'src/main.py']);
    expect(cat).toMatchObject({ code: 0, stdout: 'print("hi")\n' });
    const out = join(local, 'logo-copy.bin');
    const saved = await baton(['files', 'get', 'cli-f1', 'logo.bin', '-o', out]);
    expect(saved.code).toBe(0);
    expect(saved.stderr).toContain(`wrote 5 bytes to ${out}`);
    expect([...readFileSync(out)]).toEqual([0, 159, 146, 150, 255]);
    const folder = await baton(['files', 'get', 'cli-f1', 'src']);
    expect(folder.stdout.trim().split(/\s+/)).toEqual(['12', 'src/main.py']);
  });

  it('put <file...> sends JSON entries (by name for paths outside the current folder); a missing file is 404, exit 3', async () => {
    const a = join(local, 'a.txt');
    const b = join(local, 'b.json');
    writeFileSync(a, 'alpha');
    writeFileSync(b, '{"b":2}');
    const put = await baton(['files', 'put', 'cli-f2', a, b]);
    expect(put.code).toBe(0);
    expect(JSON.parse(put.stdout)).toEqual({
      sessionId: 'cli-f2',
      files: [
        { path: 'a.txt', size: 5 },
        { path: 'b.json', size: 7 },
      ],
    });
    expect((await baton(['files', 'get', 'cli-f2', 'b.json'])).stdout).toBe('{"b":2}');

    const missing = await baton(['files', 'get', 'cli-f2', 'nope.txt']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('404');
    const usage = await baton(['files', 'put', 'cli-f2', join(local, 'does-not-exist')]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('no such file or folder');
  });

  it('the client surfaces a refused path as a 422 problem naming it; nothing is written', async () => {
    const refused = await client
      .uploadFiles('cli-f3', [
        { path: 'ok.txt', content: 'x' },
        { path: '../../escape.txt', content: 'x' },
      ])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BatonApiError);
    expect((refused as BatonApiError).status).toBe(422);
    expect((refused as BatonApiError).problem.detail).toContain('../../escape.txt');
    expect(await client.listFiles('cli-f3')).toEqual({ files: [], truncated: false });
    const file = await client.uploadFiles('cli-f3', [{ path: 'x/y.txt', content: 'yes' }]);
    expect(file.files).toEqual([{ path: 'x/y.txt', size: 3 }]);
    const read = await client.readFile('cli-f3', 'x/y.txt');
    expect(read).toMatchObject({ type: 'file', contentType: 'text/plain; charset=utf-8' });
    expect(read.type === 'file' && read.data.toString()).toBe('yes');
    expect(await client.readFile('cli-f3', 'x')).toEqual({
      type: 'directory',
      listing: { files: [{ path: 'x/y.txt', type: 'file', size: 3 }], truncated: false },
    });
  });
});
