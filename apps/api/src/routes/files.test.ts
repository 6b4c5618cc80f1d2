import { mkdtemp, mkdir, readFile, readdir, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { create, Header, type HeaderData } from 'tar';
import { startHarness, type Harness } from '../test-utils/harness';

/**
 * The files routes against a real app, real Redis and a real folder: what an
 * upload writes, what it refuses (and that a refused upload writes nothing),
 * the bounds, reading back, and tenants.
 */

const ALICE = 'alice-secret-1';
const BOB = 'bob-secret-22';
let h: Harness;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'baton-files-'));
  h = await startHarness({
    env: {
      API_KEYS: `alice:${ALICE},bob:${BOB}`,
      WORKSPACE_ROOT: root,
      FILES_MAX_BYTES: '65536',
      FILES_MAX_EXTRACTED_BYTES: '100000',
      FILES_MAX_ENTRIES: '20',
      FILES_LIST_MAX: '50',
    },
  });
});
afterAll(async () => {
  await h.close();
  await rm(root, { recursive: true, force: true });
});

const auth = (secret = ALICE) => ({ authorization: `Bearer ${secret}` });
const postJson = (session: string, payload: unknown, secret = ALICE) =>
  h.app.inject({ method: 'POST', url: `/v1/sessions/${session}/files`, headers: auth(secret), payload: payload as object });
const postTar = (session: string, body: Buffer, contentType = 'application/gzip') =>
  h.app.inject({ method: 'POST', url: `/v1/sessions/${session}/files`, headers: { ...auth(), 'content-type': contentType }, payload: body });
const get = (url: string, secret = ALICE) => h.app.inject({ method: 'GET', url, headers: auth(secret) });
const ws = (session: string, tenant = 'alice') => join(root, tenant, session);
const tree = async (dir: string): Promise<string[]> => (await readdir(dir, { recursive: true }).catch(() => [] as string[])).sort();

interface RawEntry {
  path: string;
  type?: HeaderData['type'];
  content?: string | Buffer;
  /** Size written in the header (default: the content's). */
  size?: number;
  linkpath?: string;
  mode?: number;
}

/** A tar.gz built block by block, so that it can hold what no honest tool writes (`..`, absolute paths, links). */
function rawTarGz(entries: RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const e of entries) {
    const data = Buffer.from(e.content ?? '');
    const header = Buffer.alloc(512);
    new Header({
      path: e.path,
      type: e.type ?? 'File',
      size: e.size ?? data.length,
      mode: e.mode ?? 0o644,
      uid: 0,
      gid: 0,
      mtime: new Date(0),
      ...(e.linkpath ? { linkpath: e.linkpath } : {}),
    }).encode(header, 0);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

describe('POST /v1/sessions/{id}/files', () => {
  test('JSON entries (utf8 and base64, nested folders) are written; 201 lists paths and sizes; the bare array works too', async () => {
    const res = await postJson('s-json', {
      files: [
        { path: 'README.md', content: '# hi\n' },
        { path: 'src/deep/a.bin', content: Buffer.from([0, 1, 2, 255]).toString('base64'), encoding: 'base64' },
      ],
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      sessionId: 's-json',
      files: [
        { path: 'README.md', size: 5 },
        { path: 'src/deep/a.bin', size: 4 },
      ],
    });
    expect(await readFile(join(ws('s-json'), 'README.md'), 'utf8')).toBe('# hi\n');
    expect([...(await readFile(join(ws('s-json'), 'src/deep/a.bin')))]).toEqual([0, 1, 2, 255]);

    const bare = await postJson('s-json', [{ path: 'README.md', content: 'overwritten' }]);
    expect(bare.statusCode).toBe(201);
    expect(await readFile(join(ws('s-json'), 'README.md'), 'utf8')).toBe('overwritten');
  });

  test('a tar.gz packed by the tar package is extracted (folders, ./ prefix, executable bit); every gzip content type works', async () => {
    const src = await mkdtemp(join(tmpdir(), 'baton-src-'));
    await mkdir(join(src, 'lib'), { recursive: true });
    await writeFile(join(src, 'lib', 'x.ts'), 'export const x = 1;\n');
    await writeFile(join(src, 'run.sh'), '#!/bin/sh\necho ok\n', { mode: 0o755 });
    await mkdir(join(src, 'empty'));
    const chunks: Buffer[] = [];
    for await (const chunk of create({ gzip: true, cwd: src, portable: true }, ['.'])) chunks.push(chunk as Buffer);
    await rm(src, { recursive: true });
    const archive = Buffer.concat(chunks);

    for (const [i, type] of ['application/gzip', 'application/x-gzip', 'application/x-tar+gzip'].entries()) {
      const res = await postTar(`s-tar-${i}`, archive, type);
      expect(res.statusCode).toBe(201);
      expect(res.json().files).toEqual(
        expect.arrayContaining([
          { path: 'lib/x.ts', size: 20 },
          { path: 'run.sh', size: 18 },
        ]),
      );
      expect(res.json().files).toHaveLength(2);
      expect(await tree(ws(`s-tar-${i}`))).toEqual(['empty', 'lib', 'lib/x.ts', 'run.sh']);
      expect(await readFile(join(ws(`s-tar-${i}`), 'lib/x.ts'), 'utf8')).toBe('export const x = 1;\n');
    }
    expect((await stat(join(ws('s-tar-0'), 'run.sh'))).mode & 0o100).toBe(0o100);
  });

  test.each([
    ['..', '../escape.txt'],
    ['.. in the middle', 'a/../../escape.txt'],
    ['absolute', '/tmp/escape.txt'],
  ])('JSON: a %s path refuses the whole upload with 422 naming it; nothing is written', async (_what, bad) => {
    const session = `s-bad-json-${_what.replace(/[^a-z]/g, '')}`;
    const res = await postJson(session, {
      files: [
        { path: 'ok.txt', content: 'fine' },
        { path: bad, content: 'evil' },
      ],
    });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'WORKSPACE_PATH', path: bad });
    expect(res.json().detail).toContain(JSON.stringify(bad));
    expect(await tree(ws(session))).toEqual([]);
    expect(await tree(join(root, 'alice'))).not.toContain('escape.txt');
  });

  test.each([
    ['a .. path', { path: '../../escape.txt', content: 'x' }, '../../escape.txt'],
    ['an absolute path', { path: '/tmp/baton-escape.txt', content: 'x' }, '/tmp/baton-escape.txt'],
    ['a symlink entry', { path: 'link', type: 'SymbolicLink' as const, linkpath: '/etc' }, 'link'],
    ['a hard link entry', { path: 'hard', type: 'Link' as const, linkpath: '/etc/passwd' }, 'hard'],
    ['a device entry', { path: 'dev', type: 'CharacterDevice' as const }, 'dev'],
  ])('tar.gz: %s refuses the whole upload with 422 naming it; nothing is written', async (what, bad, named) => {
    const session = `s-bad-tar-${what.replace(/[^a-z]/g, '')}`;
    const res = await postTar(session, rawTarGz([{ path: 'first.txt', content: 'fine' }, bad, { path: 'last.txt', content: 'fine' }]));
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ code: 'WORKSPACE_PATH', path: named });
    expect(await tree(ws(session))).toEqual([]);
  });

  test('a path through a symlink that leads out of the workspace is refused (JSON and tar)', async () => {
    await mkdir(ws('s-link'), { recursive: true });
    const outside = await mkdtemp(join(tmpdir(), 'baton-outside-'));
    await symlink(outside, join(ws('s-link'), 'out'));
    const json = await postJson('s-link', [{ path: 'out/x.txt', content: 'evil' }]);
    expect(json.statusCode).toBe(422);
    expect(json.json()).toMatchObject({ code: 'WORKSPACE_PATH', path: 'out/x.txt' });
    const tar = await postTar('s-link', rawTarGz([{ path: 'out/y.txt', content: 'evil' }]));
    expect(tar.statusCode).toBe(422);
    expect(await readdir(outside)).toEqual([]);
    await rm(outside, { recursive: true });
  });

  test('a file where a folder is (in the upload or on disk) is refused before anything is written', async () => {
    const inUpload = await postJson('s-conflict', [
      { path: 'first.txt', content: '1' },
      { path: 'a', content: 'file' },
      { path: 'a/b.txt', content: 'x' },
    ]);
    expect(inUpload.statusCode).toBe(422);
    expect(inUpload.json()).toMatchObject({ code: 'WORKSPACE_PATH', path: 'a/b.txt' });
    expect(await tree(ws('s-conflict'))).toEqual([]);
    expect((await postJson('s-conflict', [{ path: 'dir/x.txt', content: 'x' }])).statusCode).toBe(201);
    const onDisk = await postTar(
      's-conflict',
      rawTarGz([
        { path: 'other.txt', content: 'o' },
        { path: 'dir', content: 'not a folder' },
      ]),
    );
    expect(onDisk.statusCode).toBe(422);
    expect(onDisk.json()).toMatchObject({ code: 'WORKSPACE_PATH', path: 'dir' });
    expect(await tree(ws('s-conflict'))).toEqual(['dir', 'dir/x.txt']);
  });

  test('bounds: body over FILES_MAX_BYTES, extracted bytes (tar bomb and lying header), entry count are 413; nothing is written', async () => {
    const big = await postJson('s-caps', [{ path: 'big.txt', content: 'x'.repeat(70_000) }]);
    expect(big.statusCode).toBe(413);

    // 1 MB of zeros gzips to about 1 KB: refused by the extracted cap, not written.
    const bomb = rawTarGz([{ path: 'zeros', content: Buffer.alloc(1_000_000) }]);
    expect(bomb.length).toBeLessThan(65536);
    const bombed = await postTar('s-caps', bomb);
    expect(bombed.statusCode).toBe(413);
    expect(bombed.json()).toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
    expect(bombed.json().detail).toContain('FILES_MAX_EXTRACTED_BYTES');

    // A header claiming a terabyte is refused at the header, before any data is read.
    const liar = await postTar('s-caps', rawTarGz([{ path: 'huge', size: 2 ** 40, content: 'tiny' }]));
    expect(liar.statusCode).toBe(413);

    const many = await postTar('s-caps', rawTarGz(Array.from({ length: 21 }, (_, i) => ({ path: `f${i}.txt`, content: 'x' }))));
    expect(many.statusCode).toBe(413);
    expect(many.json().detail).toContain('FILES_MAX_ENTRIES');
    const manyJson = await postJson(
      's-caps',
      Array.from({ length: 21 }, (_, i) => ({ path: `f${i}.txt`, content: 'x' })),
    );
    expect(manyJson.statusCode).toBe(413);

    expect(await tree(ws('s-caps'))).toEqual([]);
  });

  test('malformed uploads: not gzip, gzip but not tar, bad JSON shape, bad base64, another content type', async () => {
    expect((await postTar('s-malformed', Buffer.from('not gzip at all'))).json()).toMatchObject({ status: 422, code: 'INVALID_ARCHIVE' });
    expect((await postTar('s-malformed', gzipSync(Buffer.from('plain text, no tar')))).json()).toMatchObject({ status: 422, code: 'INVALID_ARCHIVE' });
    const shape = await postJson('s-malformed', { files: [{ path: 'a.txt' }] });
    expect(shape.statusCode).toBe(400);
    // The entry's own field is named, in the prose and in the machine-readable list.
    expect(shape.json().detail).toContain('✖ Invalid input: expected string, received undefined\n  → at body.files[0].content');
    expect(shape.json().errors).toEqual([{ path: 'body.files.0.content', message: 'Invalid input: expected string, received undefined' }]);
    expect((await postJson('s-malformed', [{ path: 'a.txt', content: 1 }])).json().errors).toEqual([
      { path: 'body.0.content', message: 'Invalid input: expected string, received number' },
    ]);
    expect((await postJson('s-malformed', [{ path: 'a', content: '!!!', encoding: 'base64' }])).statusCode).toBe(400);
    const text = await h.app.inject({
      method: 'POST',
      url: '/v1/sessions/s-malformed/files',
      headers: { ...auth(), 'content-type': 'text/plain' },
      payload: 'hi',
    });
    expect(text.statusCode).toBe(415);
    expect(await tree(ws('s-malformed'))).toEqual([]);
  });
});

describe('GET /v1/sessions/{id}/files[/{path}]', () => {
  test('lists recursively with sizes, reads a file with its content type, lists a folder, 404 when missing', async () => {
    expect((await get('/v1/sessions/s-read/files')).json()).toEqual({ files: [], truncated: false });
    await postJson('s-read', [
      { path: 'notes.md', content: '# notes' },
      { path: 'data/x.json', content: '{"a":1}' },
      { path: 'data/blob', content: Buffer.from([1, 2, 3]).toString('base64'), encoding: 'base64' },
    ]);
    const list = await get('/v1/sessions/s-read/files');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toEqual({
      files: [
        { path: 'data', type: 'directory', size: 0 },
        { path: 'notes.md', type: 'file', size: 7 },
        { path: 'data/blob', type: 'file', size: 3 },
        { path: 'data/x.json', type: 'file', size: 7 },
      ],
      truncated: false,
    });

    const md = await get('/v1/sessions/s-read/files/notes.md');
    expect(md.statusCode).toBe(200);
    expect(md.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(md.headers['content-security-policy']).toContain('sandbox');
    expect(md.body).toBe('# notes');
    expect(md.headers['baton-file-type']).toBe('file');
    const blob = await get('/v1/sessions/s-read/files/data/blob');
    expect(blob.headers['content-type']).toBe('application/octet-stream');
    expect([...blob.rawPayload]).toEqual([1, 2, 3]);

    const folder = await get('/v1/sessions/s-read/files/data');
    expect(folder.headers['baton-file-type']).toBe('directory');
    expect(folder.json()).toEqual({
      files: [
        { path: 'data/blob', type: 'file', size: 3 },
        { path: 'data/x.json', type: 'file', size: 7 },
      ],
      truncated: false,
    });
    const missing = await get('/v1/sessions/s-read/files/nope.txt');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'FILE_NOT_FOUND', path: 'nope.txt' });
    expect((await get('/v1/sessions/never-seeded/files/a.txt')).statusCode).toBe(404);
    // A read creates no folder.
    expect(await tree(join(root, 'alice'))).not.toContain('never-seeded');
  });

  test('reads refuse paths out of the workspace (encoded .., through a symlink)', async () => {
    await postJson('s-read-esc', [{ path: 'a.txt', content: 'a' }]);
    const up = await get('/v1/sessions/s-read-esc/files/sub%2F..%2F..%2F..%2Fetc%2Fpasswd');
    expect(up.statusCode).toBe(422);
    expect(up.json()).toMatchObject({ code: 'WORKSPACE_PATH' });
    await symlink('/etc', join(ws('s-read-esc'), 'etc'));
    const through = await get('/v1/sessions/s-read-esc/files/etc/passwd');
    expect(through.statusCode).toBe(422);
    // Listed, not followed.
    expect((await get('/v1/sessions/s-read-esc/files')).json().files).toContainEqual({ path: 'etc', type: 'symlink', size: 0 });
  });

  test('the listing stops at FILES_LIST_MAX with truncated: true', async () => {
    await postJson(
      's-many',
      Array.from({ length: 20 }, (_, i) => ({ path: `d${i % 4}/f${i}.txt`, content: 'x' })),
    );
    await postJson(
      's-many',
      Array.from({ length: 20 }, (_, i) => ({ path: `e${i % 4}/f${i}.txt`, content: 'x' })),
    );
    await postJson(
      's-many',
      Array.from({ length: 20 }, (_, i) => ({ path: `g${i % 4}/f${i}.txt`, content: 'x' })),
    );
    const list = (await get('/v1/sessions/s-many/files')).json();
    expect(list.truncated).toBe(true);
    expect(list.files).toHaveLength(50);
  });
});

describe("FILES_MAX_BYTES is the route's own body limit", () => {
  test('a JSON upload above the 1 MiB limit of the other routes is accepted up to FILES_MAX_BYTES', async () => {
    const wide = await startHarness({ env: { WORKSPACE_ROOT: root, FILES_MAX_BYTES: String(4 * 1024 * 1024) } });
    try {
      const content = 'z'.repeat(2 * 1024 * 1024);
      const res = await wide.app.inject({ method: 'POST', url: '/v1/sessions/s-wide/files', payload: [{ path: 'big.txt', content }] });
      expect(res.statusCode).toBe(201);
      expect(res.json().files).toEqual([{ path: 'big.txt', size: content.length }]);
      // The other routes keep their 1 MiB limit.
      const submit = await wide.app.inject({ method: 'POST', url: '/v1/sessions/s-wide/tasks', payload: { prompt: content } });
      expect(submit.statusCode).toBe(413);
    } finally {
      await wide.close();
    }
  });
});

describe('tenants', () => {
  test("another tenant's session is 404 for upload, listing and reading; each tenant's folder is its own", async () => {
    const submitted = await h.app.inject({ method: 'POST', url: '/v1/sessions/s-owned/tasks', headers: auth(ALICE), payload: { prompt: 'hi' } });
    expect(submitted.statusCode).toBe(201);
    expect((await postJson('s-owned', [{ path: 'secret.txt', content: 'alice only' }])).statusCode).toBe(201);

    const asBob = [
      await postJson('s-owned', [{ path: 'secret.txt', content: 'bob was here' }], BOB),
      await get('/v1/sessions/s-owned/files', BOB),
      await get('/v1/sessions/s-owned/files/secret.txt', BOB),
    ];
    for (const res of asBob) {
      expect(res.statusCode).toBe(404);
      expect(res.json()).toMatchObject({ code: 'SESSION_NOT_FOUND' });
    }
    expect(await readFile(join(ws('s-owned'), 'secret.txt'), 'utf8')).toBe('alice only');
    expect(await tree(join(root, 'bob'))).toEqual([]);

    // A session nobody submitted to: each tenant seeds its own folder.
    expect((await postJson('s-free', [{ path: 'x.txt', content: 'bob' }], BOB)).statusCode).toBe(201);
    expect((await get('/v1/sessions/s-free/files/x.txt', ALICE)).statusCode).toBe(404);
    expect((await get('/v1/sessions/s-free/files/x.txt', BOB)).body).toBe('bob');
  });

  test('without a key: 401', async () => {
    expect((await h.app.inject({ method: 'GET', url: '/v1/sessions/s-read/files' })).statusCode).toBe(401);
    expect((await h.app.inject({ method: 'POST', url: '/v1/sessions/s-read/files', payload: [] })).statusCode).toBe(401);
  });
});
