import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { workspaceFixture, type WorkspaceFixture } from '../../test-utils/workspace-fixture';
import { applyDiffTool } from './apply-diff';
import { applySearchReplace } from './search-replace';

const block = (search: string, replace: string, startLine?: number) =>
  `<<<<<<< SEARCH\n${startLine ? `:start_line:${startLine}\n-------\n` : ''}${search}\n=======\n${replace}\n>>>>>>> REPLACE`;

const SOURCE = ['function add(a, b) {', '  return a + b;', '}', '', 'function sub(a, b) {', '  return a - b;', '}', ''].join('\n');

describe('apply_diff', () => {
  let fx: WorkspaceFixture;
  beforeEach(async () => {
    fx = workspaceFixture();
    await fx.write('src/math.js', SOURCE);
  });
  afterEach(() => fx.cleanup());

  it('applies several blocks in one call', async () => {
    const diff = [
      block('  return a + b;', '  return a + b; // sum'),
      block('function sub(a, b) {\n  return a - b;', 'function sub(a, b) {\n  // difference\n  return a - b;'),
    ].join('\n\n');
    expect(await fx.call(applyDiffTool, { path: 'src/math.js', diff })).toBe('applied 2 blocks to src/math.js (now 8 lines)');
    expect(readFileSync(fx.abs('src/math.js'), 'utf8')).toBe(
      ['function add(a, b) {', '  return a + b; // sum', '}', '', 'function sub(a, b) {', '  // difference', '  return a - b;', '}', ''].join('\n'),
    );
  });

  it('a block that does not match is named (number and first line) and nothing is written', async () => {
    const diff = [block('  return a + b;', '  return a + b + 0;'), block('function mul(a, b) {', 'function times(a, b) {')].join('\n');
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff })).rejects.toThrow(
      'block 2 (SEARCH starting "function mul(a, b) {") does not match the file exactly. Read the file again (read_file) and copy the lines exactly.',
    );
    expect(readFileSync(fx.abs('src/math.js'), 'utf8')).toBe(SOURCE);
  });

  it('points at a whitespace-only difference', async () => {
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff: block('return a - b;', 'return b - a;') })).rejects.toThrow(
      'block 1 (SEARCH starting "return a - b;") does not match the file exactly. It would match at line 6 if whitespace were ignored',
    );
  });

  it('an ambiguous block needs :start_line:, which picks the place', async () => {
    const search = '}';
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff: block(search, '} // end') })).rejects.toThrow(
      'block 1 (SEARCH starting "}") matches 2 places (lines 3, 7); add :start_line: to say which one',
    );
    expect(await fx.call(applyDiffTool, { path: 'src/math.js', diff: block(search, '} // end of sub', 7) })).toContain('applied 1 block');
    expect(readFileSync(fx.abs('src/math.js'), 'utf8').split('\n')[6]).toBe('} // end of sub');
  });

  it('a :start_line: that does not fit is an error saying where the text is', async () => {
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff: block('  return a - b;', 'x', 2) })).rejects.toThrow(
      'block 1 (SEARCH starting "  return a - b;") does not match the file at line 2. It matches at line 6.',
    );
    expect(readFileSync(fx.abs('src/math.js'), 'utf8')).toBe(SOURCE);
  });

  it('refuses overlapping blocks, a missing file and malformed diffs', async () => {
    const overlapping = [block('function add(a, b) {\n  return a + b;', 'x'), block('  return a + b;\n}', 'y')].join('\n');
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff: overlapping })).rejects.toThrow(/block 2 .* overlaps block 1/);
    await expect(fx.call(applyDiffTool, { path: 'nope.js', diff: block('a', 'b') })).rejects.toThrow('nope.js does not exist; create it with write_to_file');
    await expect(fx.call(applyDiffTool, { path: 'src', diff: block('a', 'b') })).rejects.toThrow('src is a folder');
    execFileSync('mkfifo', [fx.abs('fifo')]);
    await expect(fx.call(applyDiffTool, { path: 'fifo', diff: block('a', 'b') })).rejects.toThrow('fifo is not a regular file');
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff: 'just some text' })).rejects.toThrow(/line 1 of the diff is outside a block/);
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff: '<<<<<<< SEARCH\na\n>>>>>>> REPLACE' })).rejects.toThrow(
      'block 1: expected ======= before line 3',
    );
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff: '<<<<<<< SEARCH\na\n=======\nb' })).rejects.toThrow(
      'block 1: no >>>>>>> REPLACE line at its end',
    );
    await expect(fx.call(applyDiffTool, { path: 'src/math.js', diff: '<<<<<<< SEARCH\n=======\nb\n>>>>>>> REPLACE' })).rejects.toThrow(/SEARCH part is empty/);
    expect(readFileSync(fx.abs('src/math.js'), 'utf8')).toBe(SOURCE);
  });
});

describe('applySearchReplace', () => {
  it('keeps CRLF line endings and a missing final newline', () => {
    expect(applySearchReplace('a\r\nb\r\nc\r\n', block('b', 'B1\nB2')).content).toBe('a\r\nB1\r\nB2\r\nc\r\n');
    expect(applySearchReplace('a\nb', block('b', 'c')).content).toBe('a\nc');
  });

  it('accepts code fences around blocks and escaped marker lines inside', () => {
    const diff = '```diff\n<<<<<<< SEARCH\n\\=======\n=======\nresolved\n>>>>>>> REPLACE\n```';
    expect(applySearchReplace('x\n=======\ny\n', diff).content).toBe('x\nresolved\ny\n');
  });

  it('can delete lines', () => {
    expect(applySearchReplace('a\nb\nc\n', '<<<<<<< SEARCH\nb\n=======\n>>>>>>> REPLACE').content).toBe('a\nc\n');
  });
});
