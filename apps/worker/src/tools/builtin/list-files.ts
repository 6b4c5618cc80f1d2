import { stat } from 'node:fs/promises';
import { z } from 'zod';
import { builtinTool } from './define';
import { walk } from './walk';

export const LIST_FILES_MAX_ENTRIES = 1000;

const ListFilesArgs = z.strictObject({
  path: z.string().describe('Folder to list, relative to the workspace folder ("." for the workspace itself)'),
  recursive: z.boolean().optional().describe('List the whole tree below the folder (default false: its direct entries only)'),
});

/**
 * `list_files`: the entries of a folder (walk.ts: .git, node_modules and
 * .gitignore'd paths skipped), folders with a trailing `/`, paths relative
 * to the workspace so they can be passed to the other tools as they are.
 */
export const listFilesTool = builtinTool({
  name: 'list_files',
  group: 'read',
  description:
    'List the files and folders in a folder of the workspace (folders end with "/"). Skips .git, node_modules and what .gitignore ignores. ' +
    `At most ${LIST_FILES_MAX_ENTRIES} entries; with recursive, the tree is listed breadth first.`,
  schema: ListFilesArgs,
  async handler({ path, recursive }, { workspace, signal }) {
    const root = await workspace.ensure();
    const dir = await workspace.resolve(path);
    const info = await stat(dir).catch(() => undefined);
    if (!info) throw new Error(`${path} does not exist`);
    if (!info.isDirectory()) throw new Error(`${path} is a file, not a folder; use read_file`);
    const start = workspace.relative(dir);
    const lines: string[] = [];
    let truncated = false;
    for await (const entry of walk(root, start === '.' ? '' : start, { recursive: recursive ?? false, signal })) {
      if (lines.length >= LIST_FILES_MAX_ENTRIES) {
        truncated = true;
        break;
      }
      lines.push(entry.kind === 'dir' ? `${entry.path}/` : entry.path);
    }
    if (lines.length === 0) return `${start === '.' ? 'the workspace' : `${start}/`} is empty (or everything in it is ignored).`;
    if (truncated) lines.push(`[truncated: showed the first ${LIST_FILES_MAX_ENTRIES} entries; list a subfolder to see more]`);
    return lines.join('\n');
  },
});
