import { execFileSync } from 'node:child_process';
import { workspaceFixture, type WorkspaceFixture } from '../../test-utils/workspace-fixture';
import { READ_FILE_MAX_BYTES, READ_FILE_MAX_LINES, readFileTool } from './read-file';

describe('read_file', () => {
  let fx: WorkspaceFixture;
  beforeEach(() => (fx = workspaceFixture()));
  afterEach(() => fx.cleanup());

  it('returns the lines numbered "N | text"', async () => {
    await fx.write('src/a.ts', 'one\ntwo\nthree\n');
    expect(await fx.call(readFileTool, { path: 'src/a.ts' })).toBe('1 | one\n2 | two\n3 | three');
  });

  it('reads a range with start_line and end_line', async () => {
    await fx.write('a.txt', 'l1\nl2\nl3\nl4\nl5');
    expect(await fx.call(readFileTool, { path: 'a.txt', start_line: 2, end_line: 4 })).toBe('2 | l2\n3 | l3\n4 | l4');
    expect(await fx.call(readFileTool, { path: 'a.txt', start_line: 9 })).toBe('a.txt has 5 lines; none in the range 9-end.');
    await expect(fx.call(readFileTool, { path: 'a.txt', start_line: 3, end_line: 2 })).rejects.toThrow('end_line (2) is before start_line (3)');
  });

  it(`caps at ${READ_FILE_MAX_LINES} lines and says how to read on`, async () => {
    await fx.write('big.txt', Array.from({ length: 2500 }, (_, i) => `line ${i + 1}`).join('\n'));
    const out = await fx.call(readFileTool, { path: 'big.txt' });
    const lines = out.split('\n');
    expect(lines).toHaveLength(READ_FILE_MAX_LINES + 1);
    expect(lines[READ_FILE_MAX_LINES - 1]).toBe('2000 | line 2000');
    expect(lines.at(-1)).toBe('[truncated: showed lines 1-2000 of big.txt (the limit is 2000 lines per call); call read_file with start_line 2001 to read on]');
    expect(await fx.call(readFileTool, { path: 'big.txt', start_line: 2001 })).toMatch(/^2001 \| line 2001\n[^]*2500 \| line 2500$/);
  });

  it('caps at 256 KiB', async () => {
    const line = 'x'.repeat(1023);
    await fx.write('wide.txt', Array.from({ length: 400 }, () => line).join('\n'));
    const out = await fx.call(readFileTool, { path: 'wide.txt' });
    expect(Buffer.byteLength(out)).toBeLessThan(READ_FILE_MAX_BYTES + 8 * 256 + 200);
    expect(out).toMatch(/\n\[truncated: showed lines 1-256 of wide.txt \(the limit is 256 KiB per call\); call read_file with start_line 257 to read on\]$/);
  });

  it('cuts one huge line instead of returning nothing', async () => {
    await fx.write('min.js', 'y'.repeat(300 * 1024));
    const out = await fx.call(readFileTool, { path: 'min.js' });
    expect(out).toContain('[line cut at 256 KiB]');
    expect(out).toContain('[truncated: showed lines 1-1 of min.js');
  });

  it('refuses binary files, folders and missing files clearly', async () => {
    await fx.write('img.png', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 1, 2]));
    await fx.write('dir/x', '');
    await expect(fx.call(readFileTool, { path: 'img.png' })).rejects.toThrow('img.png is a binary file (8 B); read_file only reads text');
    await expect(fx.call(readFileTool, { path: 'dir' })).rejects.toThrow('dir is a folder; use list_files');
    await expect(fx.call(readFileTool, { path: 'nope.txt' })).rejects.toThrow('nope.txt does not exist');
    expect(await fx.call(readFileTool, { path: 'dir/x' })).toBe('dir/x is empty.');
    // A FIFO would block the open until a writer came.
    execFileSync('mkfifo', [fx.abs('dir/fifo')]);
    await expect(fx.call(readFileTool, { path: 'dir/fifo' })).rejects.toThrow('dir/fifo is not a regular file');
  });

  it('its schema is strict and rejects bad line numbers', () => {
    expect(readFileTool.schema.safeParse({ path: 'a', extra: 1 }).success).toBe(false);
    expect(readFileTool.schema.safeParse({ path: 'a', start_line: 0 }).success).toBe(false);
    expect(readFileTool.schema.safeParse({ path: 'a', start_line: 1.5 }).success).toBe(false);
  });
});
