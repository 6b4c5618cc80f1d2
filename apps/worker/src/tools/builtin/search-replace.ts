/**
 * KiloCode/Roo SEARCH/REPLACE blocks, parsed and applied as pure functions
 * (apply-diff.ts does the file I/O):
 *
 * ```
 * <<<<<<< SEARCH
 * :start_line:12        (optional: the line where the search text starts)
 * -------               (optional separator, as Roo writes it)
 * exact lines to find
 * =======
 * lines to put instead
 * >>>>>>> REPLACE
 * ```
 * A content line that looks like a marker is escaped with a backslash
 * (`\=======`), as in Roo. Every block is matched against the file as it was
 * before the call (so `:start_line:` numbers are the file's current ones),
 * line by line and exactly; without a start line the search text must occur
 * exactly once. The blocks must not overlap. Any failure throws before
 * anything is changed, naming the block by number and first search line.
 */

export interface SearchReplaceBlock {
  /** 1-based, in the order given. */
  index: number;
  startLine?: number;
  search: string[];
  replace: string[];
}

const SEARCH = /^<{7} SEARCH\s*$/;
const DIVIDER = /^={7}\s*$/;
const REPLACE = /^>{7} REPLACE\s*$/;
const DASHES = /^-{7}\s*$/;
const START_LINE = /^:start_line:\s*(\d+)\s*$/;
const END_LINE = /^:end_line:\s*(\d+)\s*$/;
const ESCAPED = /^\\(<{7} SEARCH|={7}|>{7} REPLACE|-{7})\s*$/;

const unescape = (line: string) => (ESCAPED.test(line) ? line.slice(1) : line);

export function parseBlocks(diff: string): SearchReplaceBlock[] {
  const lines = diff.replace(/\r\n/g, '\n').split('\n');
  const blocks: SearchReplaceBlock[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!SEARCH.test(line)) {
      // Blank lines and code fences around blocks are harmless; other text is a malformed diff.
      if (line.trim() === '' || /^```/.test(line.trim())) {
        i++;
        continue;
      }
      throw new Error(
        `line ${i + 1} of the diff is outside a block (${JSON.stringify(line.slice(0, 80))}); every change must be a <<<<<<< SEARCH ... ======= ... >>>>>>> REPLACE block`,
      );
    }
    const index = blocks.length + 1;
    i++;
    let startLine: number | undefined;
    for (;;) {
      const meta = lines[i];
      if (meta === undefined) break;
      const start = START_LINE.exec(meta);
      if (start) startLine = Number(start[1]);
      else if (!END_LINE.test(meta) && !DASHES.test(meta)) break;
      i++;
    }
    const search: string[] = [];
    while (i < lines.length && !DIVIDER.test(lines[i]!)) {
      if (SEARCH.test(lines[i]!) || REPLACE.test(lines[i]!)) throw new Error(`block ${index}: expected ======= before line ${i + 1} of the diff`);
      search.push(unescape(lines[i]!));
      i++;
    }
    if (i >= lines.length) throw new Error(`block ${index}: no ======= line after its SEARCH part`);
    i++;
    const replace: string[] = [];
    while (i < lines.length && !REPLACE.test(lines[i]!)) {
      if (SEARCH.test(lines[i]!) || DIVIDER.test(lines[i]!)) throw new Error(`block ${index}: expected >>>>>>> REPLACE before line ${i + 1} of the diff`);
      replace.push(unescape(lines[i]!));
      i++;
    }
    if (i >= lines.length) throw new Error(`block ${index}: no >>>>>>> REPLACE line at its end`);
    i++;
    if (startLine === 0) throw new Error(`block ${index}: :start_line: counts from 1`);
    if (search.length === 0) throw new Error(`block ${index}: its SEARCH part is empty; to create or replace a whole file use write_to_file`);
    blocks.push({ index, startLine, search, replace });
  }
  if (blocks.length === 0) throw new Error('the diff has no <<<<<<< SEARCH ... ======= ... >>>>>>> REPLACE block');
  return blocks;
}

function name(block: SearchReplaceBlock): string {
  return `block ${block.index} (SEARCH starting ${JSON.stringify(block.search[0]!.slice(0, 80))})`;
}

function matchesAt(file: string[], search: string[], at: number, same = (a: string, b: string) => a === b): boolean {
  if (at < 0 || at + search.length > file.length) return false;
  return search.every((line, k) => same(file[at + k]!, line));
}

function occurrences(file: string[], search: string[], same?: (a: string, b: string) => boolean): number[] {
  const found: number[] = [];
  for (let at = 0; at + search.length <= file.length; at++) if (matchesAt(file, search, at, same)) found.push(at);
  return found;
}

const loose = (a: string, b: string) => a.trim() === b.trim();

/** Where (0-based line) the block applies in `file`; throws an error naming it otherwise. */
function locate(file: string[], block: SearchReplaceBlock): number {
  if (block.startLine !== undefined) {
    const at = block.startLine - 1;
    if (matchesAt(file, block.search, at)) return at;
    const elsewhere = occurrences(file, block.search).map((n) => n + 1);
    const hint = elsewhere.length ? ` It matches at line ${elsewhere.join(', ')}.` : '';
    throw new Error(`${name(block)} does not match the file at line ${block.startLine}.${hint} Read the file again and copy the lines exactly.`);
  }
  const found = occurrences(file, block.search);
  if (found.length === 1) return found[0]!;
  if (found.length > 1) {
    throw new Error(`${name(block)} matches ${found.length} places (lines ${found.map((n) => n + 1).join(', ')}); add :start_line: to say which one`);
  }
  const nearly = occurrences(file, block.search, loose).map((n) => n + 1);
  const hint = nearly.length ? ` It would match at line ${nearly.join(', ')} if whitespace were ignored: copy the indentation exactly.` : '';
  throw new Error(`${name(block)} does not match the file exactly.${hint} Read the file again (read_file) and copy the lines exactly.`);
}

/**
 * Applies the blocks of `diff` to `content`. Returns the new content and the
 * number of blocks; throws (nothing applied) when one does not fit.
 */
export function applySearchReplace(content: string, diff: string): { content: string; blocks: number } {
  const blocks = parseBlocks(diff);
  const eol = content.includes('\r\n') ? '\r\n' : '\n';
  const finalEol = content.endsWith('\n');
  const file = content === '' ? [] : (finalEol ? content.slice(0, content.endsWith('\r\n') ? -2 : -1) : content).split(/\r?\n/);

  const placed = blocks.map((block) => ({ block, at: locate(file, block) })).sort((a, b) => a.at - b.at);
  for (let k = 1; k < placed.length; k++) {
    const prev = placed[k - 1]!;
    if (placed[k]!.at < prev.at + prev.block.search.length) {
      throw new Error(`${name(placed[k]!.block)} overlaps ${name(prev.block)}; merge them into one block`);
    }
  }
  // Bottom up, so the line numbers of the blocks above stay valid.
  for (const { block, at } of placed.reverse()) file.splice(at, block.search.length, ...block.replace);
  const joined = file.join(eol);
  return { content: joined + (finalEol && file.length > 0 ? eol : ''), blocks: blocks.length };
}
