import { open, stat } from 'node:fs/promises';
import { z } from 'zod';
import { builtinTool, kib, looksBinary } from './define';

/** At most this many lines, and this many bytes of file, per call. */
export const READ_FILE_MAX_LINES = 2000;
export const READ_FILE_MAX_BYTES = 256 * 1024;

const ReadFileArgs = z.strictObject({
  path: z.string().min(1).describe('File to read, relative to the workspace folder'),
  start_line: z.number().int().min(1).optional().describe('First line to return (1-based, inclusive); default 1'),
  end_line: z.number().int().min(1).optional().describe('Last line to return (1-based, inclusive); default the end of the file'),
});

/**
 * `read_file`: the file's lines as `N | text`. Big files are cut at
 * READ_FILE_MAX_LINES lines or READ_FILE_MAX_BYTES bytes read, and the output
 * says where it stopped and how to read on (start_line). Binary files (a NUL
 * byte near the start) are refused: their bytes mean nothing to the model.
 */
export const readFileTool = builtinTool({
  name: 'read_file',
  group: 'read',
  description:
    'Read a text file of the workspace. Returns its lines prefixed with their numbers ("N | text"). ' +
    `At most ${READ_FILE_MAX_LINES} lines or ${READ_FILE_MAX_BYTES / 1024} KiB per call; use start_line/end_line to read a large file in parts.`,
  schema: ReadFileArgs,
  async handler({ path, start_line, end_line }, { workspace, signal }) {
    const start = start_line ?? 1;
    if (end_line !== undefined && end_line < start) throw new Error(`end_line (${end_line}) is before start_line (${start})`);
    const file = await workspace.resolve(path);
    // Checked before opening: opening a FIFO would wait for a writer.
    const before = await stat(file).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new Error(`${path} does not exist`);
      throw err;
    });
    if (before.isDirectory()) throw new Error(`${path} is a folder; use list_files`);
    if (!before.isFile()) throw new Error(`${path} is not a regular file`);
    const handle = await open(file, 'r');
    try {
      const stat = await handle.stat();
      const head = Buffer.alloc(Math.min(8192, stat.size));
      await handle.read(head, 0, head.length, 0);
      if (looksBinary(head)) throw new Error(`${path} is a binary file (${kib(stat.size)}); read_file only reads text`);
      signal.throwIfAborted();

      const lines: string[] = [];
      let lineNo = 0;
      let bytes = 0;
      let cut: 'lines' | 'bytes' | undefined;
      for await (const line of handle.readLines({ encoding: 'utf8', autoClose: false })) {
        lineNo++;
        if (lineNo < start) continue;
        if (end_line !== undefined && lineNo > end_line) break;
        if (lines.length >= READ_FILE_MAX_LINES) {
          cut = 'lines';
          break;
        }
        bytes += Buffer.byteLength(line) + 1;
        if (bytes > READ_FILE_MAX_BYTES) {
          // One huge line (minified code) is shown cut rather than not at all.
          if (lines.length === 0) lines.push(`${lineNo} | ${line.slice(0, READ_FILE_MAX_BYTES)} [line cut at ${READ_FILE_MAX_BYTES / 1024} KiB]`);
          cut = 'bytes';
          break;
        }
        lines.push(`${lineNo} | ${line}`);
      }
      if (lines.length === 0) {
        return lineNo === 0 ? `${path} is empty.` : `${path} has ${lineNo} lines; none in the range ${start}-${end_line ?? 'end'}.`;
      }
      const last = start + lines.length - 1;
      const out = lines.join('\n');
      if (!cut) return out;
      const why = cut === 'lines' ? `${READ_FILE_MAX_LINES} lines` : `${READ_FILE_MAX_BYTES / 1024} KiB`;
      return `${out}\n[truncated: showed lines ${start}-${last} of ${path} (the limit is ${why} per call); call read_file with start_line ${last + 1} to read on]`;
    } finally {
      await handle.close();
    }
  },
});
