import { readFile, stat, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { builtinTool, looksBinary } from './define';
import { applySearchReplace } from './search-replace';
import { lineCount } from './write-to-file';

const ApplyDiffArgs = z.strictObject({
  path: z.string().min(1).describe('File to change, relative to the workspace folder; it must exist'),
  diff: z
    .string()
    .min(1)
    .describe(
      'One or more blocks, each:\n<<<<<<< SEARCH\n:start_line:N   (optional line where the search text starts)\n-------\n' +
        'exact lines of the current file\n=======\nthe lines to put instead\n>>>>>>> REPLACE\n' +
        'Search lines must match the file exactly, whitespace included, and occur once (or at start_line). ' +
        'Escape a content line that looks like a marker with a backslash (\\=======).',
    ),
});

/** `apply_diff`: SEARCH/REPLACE blocks (search-replace.ts); all of them apply, or none. */
export const applyDiffTool = builtinTool({
  name: 'apply_diff',
  group: 'edit',
  description:
    'Change part of an existing file with SEARCH/REPLACE blocks. Every block must match the current file exactly; ' +
    'if one does not, nothing is written and the error names the block. Read the file first to copy the lines exactly.',
  schema: ApplyDiffArgs,
  async handler({ path, diff }, { workspace, signal }) {
    const file = await workspace.resolve(path);
    const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new Error(`${path} does not exist; create it with write_to_file`);
      throw err;
    });
    if (info.isDirectory()) throw new Error(`${path} is a folder`);
    // Opening a FIFO or a device would wait or mean nothing.
    if (!info.isFile()) throw new Error(`${path} is not a regular file`);
    const before = await readFile(file, { signal });
    if (looksBinary(before)) throw new Error(`${path} is a binary file; apply_diff only changes text`);
    const { content, blocks } = applySearchReplace(before.toString('utf8'), diff);
    await writeFile(file, content, { encoding: 'utf8', signal });
    return `applied ${blocks} block${blocks === 1 ? '' : 's'} to ${workspace.relative(file)} (now ${lineCount(content)} lines)`;
  },
});
