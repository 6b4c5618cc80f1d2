import { z } from 'zod';

/**
 * Schemas of the workspace files routes (`/v1/sessions/{id}/files`, seeding
 * a workspace): a public contract, validated at the boundary like
 * every other response.
 */

/** One file of a JSON upload. `encoding: 'base64'` for binary content. */
export interface FileEntryInput {
  /** Relative to the workspace (`..`, absolute paths and symlinks out are refused by the server). */
  path: string;
  content: string;
  encoding?: 'utf8' | 'base64';
}

/** `POST /v1/sessions/{id}/files` (201): what was written. */
export const FilesUploadedSchema = z.object({
  sessionId: z.string(),
  files: z.array(z.object({ path: z.string(), size: z.number().int() })),
});
export type FilesUploaded = z.infer<typeof FilesUploadedSchema>;

export const FileInfoSchema = z.object({
  path: z.string(),
  type: z.enum(['file', 'directory', 'symlink', 'other']),
  size: z.number().int(),
});
export type FileInfo = z.infer<typeof FileInfoSchema>;

/** `GET /v1/sessions/{id}/files` (and a folder's `GET .../files/{path}`). */
export const FileListingSchema = z.object({
  files: z.array(FileInfoSchema),
  truncated: z.boolean(),
});
export type FileListing = z.infer<typeof FileListingSchema>;

/** `readFile`: a file's bytes, or, for a folder, its listing. */
export type FileContent = { type: 'file'; data: Buffer; contentType: string } | { type: 'directory'; listing: FileListing };
