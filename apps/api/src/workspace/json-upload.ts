import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Workspace } from '@baton/core';
import { z } from 'zod';
import { ApiError } from '../http/error-catalog';
import { checkConflicts, displayPath, resolveEntry, UploadBudget, type PlannedEntry, type UploadLimits } from './upload-limits';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

export const FileEntrySchema = z
  .strictObject({
    path: z.string().min(1).max(4096).describe('Relative to the workspace; `..`, absolute paths and symlinks out are refused (422)'),
    content: z.string(),
    encoding: z.enum(['utf8', 'base64']).default('utf8').describe('`base64` for binary content'),
  })
  .meta({ id: 'FileEntry' });
export type FileEntry = z.output<typeof FileEntrySchema>;

const FileListSchema = z.array(FileEntrySchema).min(1);
const FilesObjectSchema = z.strictObject({ files: FileListSchema });

/** `{"files": [...]}` or the bare array. */
export const FilesUploadSchema = z.union([FilesObjectSchema, FileListSchema]).meta({ id: 'FilesUpload' });

/** Checks every entry (paths, encodings, budget) before writing any, then writes them in order (a later duplicate wins). */
export async function writeJsonEntries(workspace: Workspace, body: unknown, limits: UploadLimits): Promise<PlannedEntry[]> {
  // Each form on its own, so that a bad entry is reported at its field rather than as "matches neither form".
  const parsed = (Array.isArray(body) ? FileListSchema : FilesObjectSchema).safeParse(body);
  if (!parsed.success) {
    const error = new z.ZodError(parsed.error.issues.map((issue) => ({ ...issue, path: ['body', ...issue.path] })));
    throw new ApiError(
      'INVALID_INPUT',
      `expected {"files": [{"path", "content", "encoding"?: "utf8"|"base64"}]} (or the bare array), or a tar.gz with Content-Type: application/gzip:\n${z.prettifyError(error)}`,
      // The same shape as a route's schema errors: one {path, message} per problem.
      { errors: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })) },
    );
  }
  const entries = Array.isArray(parsed.data) ? parsed.data : parsed.data.files;
  const budget = new UploadBudget(limits);
  const planned: (PlannedEntry & { data: Buffer })[] = [];
  for (const [i, entry] of entries.entries()) {
    if (entry.encoding === 'base64' && !BASE64.test(entry.content)) {
      throw new ApiError('INVALID_INPUT', `files[${i}] (${JSON.stringify(entry.path)}): content is not base64`, { path: entry.path });
    }
    const data = Buffer.from(entry.content, entry.encoding);
    budget.add(entry.path, data.length);
    planned.push({ path: displayPath(entry.path), abs: await resolveEntry(workspace, entry.path), kind: 'file', size: data.length, data });
  }
  await checkConflicts(planned);
  for (const entry of planned) {
    await mkdir(dirname(entry.abs), { recursive: true });
    await writeFile(entry.abs, entry.data);
  }
  return planned.map(({ data: _data, ...entry }) => entry);
}
