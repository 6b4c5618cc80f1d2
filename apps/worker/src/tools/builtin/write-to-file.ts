import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import { builtinTool } from './define';

const WriteToFileArgs = z.strictObject({
  path: z.string().min(1).describe('File to write, relative to the workspace folder; missing parent folders are created'),
  content: z.string().describe('The complete new content of the file (not a diff, nothing left out)'),
});

/** Lines of a text as an editor counts them (a final newline does not start a line). */
export function lineCount(text: string): number {
  if (text === '') return 0;
  const n = text.split('\n').length;
  return text.endsWith('\n') ? n - 1 : n;
}

/** `write_to_file`: creates or overwrites a file with the whole content given. */
export const writeToFileTool = builtinTool({
  name: 'write_to_file',
  group: 'edit',
  description:
    'Create a file, or overwrite it, with the complete content given. Parent folders are created. ' + 'To change part of an existing file prefer apply_diff.',
  schema: WriteToFileArgs,
  async handler({ path, content }, { workspace, signal }) {
    const file = await workspace.resolve(path);
    const existed = await stat(file).then(
      (s) => {
        if (s.isDirectory()) throw new Error(`${path} is a folder`);
        return true;
      },
      () => false,
    );
    await mkdir(dirname(file), { recursive: true });
    // The parent may only now exist: resolve again so a link made meanwhile cannot lead out.
    const checked = await workspace.resolve(path);
    await writeFile(checked, content, { encoding: 'utf8', signal });
    return `${existed ? 'overwrote' : 'created'} ${workspace.relative(checked)} (${lineCount(content)} lines)`;
  },
});
