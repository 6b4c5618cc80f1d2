import { readFile, stat, writeFile } from 'node:fs/promises';
import { basename, isAbsolute, normalize, sep } from 'node:path';
import { create } from 'tar';
import type { BatonClient } from '../baton-client';
import type { FileEntryInput, FileListing, FilesUploaded } from '../file-schemas';
import { UsageError } from './args';
import type { Output } from './watch-view';

/**
 * `baton files put|ls|get`: the workspace of a session from the terminal.
 *
 * put: one folder is packed as a tar.gz of its contents (the folder itself is
 * the workspace root), so a project keeps its layout and the upload is one
 * compressed request; symbolic links are left out (the server refuses them:
 * a link may point anywhere) and named on stderr. Files are sent as JSON
 * entries, base64 (any bytes), at their relative path when it stays below the
 * current folder, else at their name.
 */
export async function putFiles(client: BatonClient, sessionId: string, paths: string[], err: Output, signal?: AbortSignal): Promise<FilesUploaded> {
  const kinds = await Promise.all(
    paths.map(async (path) => {
      const s = await stat(path).catch(() => null);
      if (!s) throw new UsageError(`files put: no such file or folder '${path}'`);
      return s.isDirectory() ? 'directory' : s.isFile() ? 'file' : 'other';
    }),
  );
  if (kinds.includes('directory')) {
    if (paths.length > 1) throw new UsageError('files put: give one folder, or one or more files (not both)');
    const archive = await packFolder(paths[0]!, (skipped) => err.write(`baton: skipped symbolic link ${skipped}\n`));
    return client.uploadFiles(sessionId, archive, signal ? { signal } : {});
  }
  const bad = paths.find((_, i) => kinds[i] !== 'file');
  if (bad !== undefined) throw new UsageError(`files put: '${bad}' is neither a regular file nor a folder`);
  const entries: FileEntryInput[] = await Promise.all(
    paths.map(async (path) => ({ path: entryPath(path), content: (await readFile(path)).toString('base64'), encoding: 'base64' as const })),
  );
  return client.uploadFiles(sessionId, entries, signal ? { signal } : {});
}

/** Where a local file lands in the workspace: its relative path when it stays below `.`, else its name. */
export function entryPath(local: string): string {
  const normal = normalize(local);
  if (isAbsolute(normal) || normal === '..' || normal.startsWith(`..${sep}`)) return basename(normal);
  return normal.split(sep).join('/');
}

/** A gzipped tar of `dir`'s contents (paths relative to it, portable headers: no owner, no mtime noise). */
export async function packFolder(dir: string, onSkip: (path: string) => void = () => undefined): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const pack = create(
    { gzip: true, cwd: dir, portable: true, filter: (path, s) => ('isSymbolicLink' in s && s.isSymbolicLink() ? (onSkip(path), false) : true) },
    ['.'],
  );
  for await (const chunk of pack) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

/** `ls -l`-like lines: size, then path (folders end with `/`, links with `@`). */
export function formatListing(listing: FileListing): string {
  const width = Math.max(1, ...listing.files.map((f) => String(f.size).length));
  const lines = listing.files.map((f) => `${String(f.size).padStart(width)}  ${f.path}${f.type === 'directory' ? '/' : f.type === 'symlink' ? '@' : ''}`);
  if (listing.truncated) lines.push(`(listing truncated at ${listing.files.length} entries)`);
  return lines.length ? lines.join('\n') + '\n' : '';
}

/** `files get`: bytes to stdout or `out`; a folder is listed. */
export async function getFile(
  client: BatonClient,
  sessionId: string,
  path: string,
  out: string | undefined,
  io: { stdout: Output; stderr: Output },
  signal?: AbortSignal,
): Promise<void> {
  const content = await client.readFile(sessionId, path, signal ? { signal } : {});
  if (content.type === 'directory') {
    io.stdout.write(formatListing(content.listing));
    return;
  }
  if (out === undefined) {
    io.stdout.write(content.data);
    return;
  }
  await writeFile(out, content.data);
  io.stderr.write(`wrote ${content.data.length} bytes to ${out}\n`);
}
