import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { z } from 'zod';

export const FileInfoSchema = z
  .object({
    path: z.string().describe('Relative to the workspace, `/` separated'),
    type: z.enum(['file', 'directory', 'symlink', 'other']),
    size: z.number().int().describe('Bytes (0 for folders)'),
  })
  .meta({ id: 'FileInfo' });
export type FileInfo = z.infer<typeof FileInfoSchema>;

export const FileListingSchema = z
  .object({
    files: z.array(FileInfoSchema),
    truncated: z.boolean().describe('More entries exist than FILES_LIST_MAX'),
  })
  .meta({ id: 'FileListing' });
export type FileListing = z.infer<typeof FileListingSchema>;

/**
 * Every entry under `dir` (breadth-first, names sorted, at most `max`), with
 * paths relative to `root`. Symlinks are listed, never followed: a link to a
 * large tree (or to itself) costs one entry.
 */
export async function listTree(root: string, dir: string, max: number): Promise<FileListing> {
  const files: FileInfo[] = [];
  const queue = [dir];
  while (queue.length > 0) {
    const current = queue.shift()!;
    let names: string[];
    try {
      names = (await readdir(current)).sort();
    } catch (err) {
      // Removed meanwhile (a command in the workspace): list what is there.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw err;
    }
    for (const name of names) {
      if (files.length >= max) return { files, truncated: true };
      const abs = join(current, name);
      let stats;
      try {
        stats = await lstat(abs);
      } catch {
        continue;
      }
      const type = stats.isFile() ? 'file' : stats.isDirectory() ? 'directory' : stats.isSymbolicLink() ? 'symlink' : 'other';
      files.push({ path: relative(root, abs).split(sep).join('/'), type, size: type === 'file' ? stats.size : 0 });
      if (type === 'directory') queue.push(abs);
    }
  }
  return { files, truncated: false };
}
