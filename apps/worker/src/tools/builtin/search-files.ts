import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { z } from 'zod';
import { builtinTool, looksBinary } from './define';
import { walk } from './walk';

export const SEARCH_MAX_RESULTS = 300;
/** Longer lines are shown cut (minified files). */
const MAX_LINE_CHARS = 500;
/** Bigger files are skipped (and counted in the output). */
const MAX_FILE_BYTES = 2 * 1024 * 1024;

const SearchFilesArgs = z.strictObject({
  path: z.string().describe('Folder to search (recursively), relative to the workspace folder ("." for all of it)'),
  regex: z.string().min(1).describe('JavaScript regular expression (ECMAScript syntax, not ripgrep/Rust syntax), matched against each line'),
  file_pattern: z
    .string()
    .optional()
    .describe('Glob limiting the files searched, e.g. "*.ts" (a pattern without "/" matches the file name at any depth) or "src/**/*.test.ts"'),
});

/**
 * `search_files`: a regex over the lines of the text files of a folder, in
 * JavaScript (the same walk and ignore rules as list_files, see walk.ts), not
 * the `rg` binary, so the worker image needs nothing extra. The regex is
 * therefore ECMAScript syntax, which the tool's description tells the model.
 * Results read `path:line: text`, with one line of context before and after
 * as `path:line- text` (grep's notation) and `--` between groups, capped at
 * SEARCH_MAX_RESULTS matches. Known limit: a catastrophically backtracking
 * regex runs on the worker's event loop; lines are cut at 10,000 characters
 * before matching to bound the damage.
 */
export const searchFilesTool = builtinTool({
  name: 'search_files',
  group: 'read',
  description:
    'Search the text files of a workspace folder (recursively) for a JavaScript regular expression, line by line. ' +
    'Skips .git, node_modules, .gitignore\'d and binary files. Results are "path:line: text" with one line of context around each match ' +
    `("path:line- text"), at most ${SEARCH_MAX_RESULTS} matches.`,
  schema: SearchFilesArgs,
  async handler({ path, regex, file_pattern }, { workspace, signal }) {
    let re: RegExp;
    try {
      re = new RegExp(regex);
    } catch (err) {
      throw new Error(`invalid regex (JavaScript syntax): ${(err as Error).message}`);
    }
    const match = file_pattern ? picomatch(file_pattern, { dot: true, basename: !file_pattern.includes('/') }) : () => true;
    const root = await workspace.ensure();
    const dir = await workspace.resolve(path);
    const info = await stat(dir).catch(() => undefined);
    if (!info) throw new Error(`${path} does not exist`);
    const start = workspace.relative(dir);

    // A file given as the path is searched alone.
    const files: AsyncIterable<{ path: string; kind: string }> = info.isDirectory()
      ? walk(root, start === '.' ? '' : start, { recursive: true, signal })
      : (async function* () {
          yield { path: start, kind: 'file' };
        })();

    const out: string[] = [];
    let results = 0;
    let truncated = false;
    let skippedBig = 0;
    for await (const entry of files) {
      if (entry.kind !== 'file') continue;
      const rel = start !== '.' && info.isDirectory() ? entry.path.slice(start.length + 1) : entry.path;
      if (!match(rel)) continue;
      const abs = join(root, entry.path);
      const size = (await stat(abs)).size;
      if (size > MAX_FILE_BYTES) {
        skippedBig++;
        continue;
      }
      const buffer = await readFile(abs, { signal });
      if (looksBinary(buffer)) continue;
      const lines = buffer.toString('utf8').split(/\r?\n/);
      if (lines.at(-1) === '') lines.pop();
      const hits: number[] = [];
      for (let i = 0; i < lines.length; i++) {
        if (!re.test(lines[i]!.slice(0, 10_000))) continue;
        if (results >= SEARCH_MAX_RESULTS) {
          truncated = true;
          break;
        }
        results++;
        hits.push(i);
      }
      if (hits.length > 0) out.push(...withContext(entry.path, lines, hits, out.length > 0));
      if (truncated) break;
    }
    const notes: string[] = [];
    if (truncated) notes.push(`[truncated: showed the first ${SEARCH_MAX_RESULTS} matches; narrow the path, regex or file_pattern]`);
    if (skippedBig) notes.push(`[${skippedBig} file(s) over ${MAX_FILE_BYTES / 1024 / 1024} MiB not searched]`);
    const head = results === 0 ? `no matches for /${regex}/ in ${start === '.' ? 'the workspace' : start}` : `${results} match${results === 1 ? '' : 'es'}:`;
    return [head, ...out, ...notes].join('\n');
  },
});

/** grep -C1 style: match lines `path:N: text`, context `path:N- text`, `--` between groups. */
function withContext(path: string, lines: string[], hits: number[], separateFirst: boolean): string[] {
  const isHit = new Set(hits);
  const shown = new Set(hits.flatMap((i) => [i - 1, i, i + 1]).filter((k) => k >= 0 && k < lines.length));
  const out: string[] = [];
  let previous: number | undefined;
  for (const k of [...shown].sort((a, b) => a - b)) {
    if ((previous === undefined && separateFirst) || (previous !== undefined && k > previous + 1)) out.push('--');
    const text = lines[k]!.length > MAX_LINE_CHARS ? `${lines[k]!.slice(0, MAX_LINE_CHARS)} [line cut]` : lines[k]!;
    out.push(`${path}:${k + 1}${isHit.has(k) ? ':' : '-'} ${text}`);
    previous = k;
  }
  return out;
}
