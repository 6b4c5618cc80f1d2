import { stat } from 'node:fs/promises';
import { BatonError, type Workspace } from '@baton/core';
import { ApiError } from '../http/error-catalog';

/** The bounds of one upload (FILES_MAX_EXTRACTED_BYTES, FILES_MAX_ENTRIES). */
export interface UploadLimits {
  maxExtractedBytes: number;
  maxEntries: number;
}

/** One entry of an upload, checked: `abs` is inside the workspace. */
export interface PlannedEntry {
  /** As given (tar header or JSON), normalised to `/` separators without a leading `./`. */
  path: string;
  abs: string;
  kind: 'file' | 'directory';
  size: number;
}

/** A running total over an upload's entries that refuses, with 413, the one that passes a bound. */
export class UploadBudget {
  private entries = 0;
  private bytes = 0;

  constructor(private readonly limits: UploadLimits) {}

  add(path: string, size: number): void {
    this.entries += 1;
    this.bytes += size;
    if (this.entries > this.limits.maxEntries) {
      throw new ApiError('PAYLOAD_TOO_LARGE', `the upload has more than ${this.limits.maxEntries} entries (FILES_MAX_ENTRIES); split it`, {
        limit: this.limits.maxEntries,
      });
    }
    if (this.bytes > this.limits.maxExtractedBytes) {
      throw new ApiError(
        'PAYLOAD_TOO_LARGE',
        `the upload writes more than ${this.limits.maxExtractedBytes} bytes once extracted (FILES_MAX_EXTRACTED_BYTES; passed at ${JSON.stringify(path)}); split it`,
        { limit: this.limits.maxExtractedBytes },
      );
    }
  }
}

/** Display form of an entry path: `/` separators, no leading `./`. */
export function displayPath(path: string): string {
  return path.replace(/\\/g, '/').replace(/^(\.\/)+/, '');
}

/**
 * Resolves an entry inside the workspace. A refusal (absolute, `..`, a symlink
 * out) is a 422 naming the path, so the caller can fix that one entry.
 */
export async function resolveEntry(workspace: Workspace, path: string): Promise<string> {
  if (displayPath(path) === '' || displayPath(path) === '.') {
    throw new ApiError('WORKSPACE_PATH', `entry path ${JSON.stringify(path)} names the workspace itself; give a file path`, { path });
  }
  try {
    return await workspace.resolve(path);
  } catch (err) {
    if (err instanceof BatonError && err.code === 'WORKSPACE_PATH') throw new ApiError('WORKSPACE_PATH', err.message, { path });
    throw err;
  }
}

/**
 * A file where a folder is, or the reverse, found before anything is written:
 * within the upload (`a` and `a/b` both files) or against the workspace (a
 * file entry whose path is an existing folder). 422 naming the path.
 */
export async function checkConflicts(entries: readonly PlannedEntry[]): Promise<void> {
  const files = new Set(entries.filter((e) => e.kind === 'file').map((e) => e.path));
  for (const entry of entries) {
    const parts = entry.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (files.has(parent)) {
        throw new ApiError(
          'WORKSPACE_PATH',
          `entry ${JSON.stringify(entry.path)} needs ${JSON.stringify(parent)} to be a folder, but the upload has it as a file`,
          {
            path: entry.path,
          },
        );
      }
    }
    if (entry.kind === 'file' && (await stat(entry.abs).catch(() => null))?.isDirectory()) {
      throw new ApiError('WORKSPACE_PATH', `entry ${JSON.stringify(entry.path)} is a file, but the workspace has a folder there`, { path: entry.path });
    }
  }
}
