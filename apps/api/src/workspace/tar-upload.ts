import { createWriteStream } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { Workspace } from '@baton/core';
import { Parser, type ReadEntry } from 'tar';
import { ApiError } from '../http/error-catalog';
import { checkConflicts, displayPath, resolveEntry, UploadBudget, type PlannedEntry, type UploadLimits } from './upload-limits';

/**
 * A tar.gz upload, extracted into a workspace in two passes over the
 * (bounded, in-memory) compressed body:
 *
 * 1. plan: every header is read and checked, no data is kept and nothing is
 *    written. Only regular files and folders are accepted (a symlink or
 *    hard link entry could point anywhere; devices and FIFOs have no place in a
 *    workspace); every path goes through `Workspace.resolve`; entries and
 *    sizes count against the upload's budget, and the decompressed stream
 *    itself is cut at the extracted-bytes cap plus tar's overhead, so a tar
 *    bomb (huge padding, a header claiming terabytes) is refused early.
 * 2. write: only when every entry passed, the archive is read again and each
 *    file is streamed to its checked path.
 *
 * Parsing uses the `tar` package (isaacs/node-tar, npm's own): it reads what
 * real tools write (GNU long names, pax headers, old v7 archives), which a
 * small ustar reader would refuse or misread. Its extraction is not used: the
 * paths it would write are decided here, by the Workspace.
 */

const FILE_TYPES: ReadonlySet<string> = new Set(['File', 'OldFile', 'ContiguousFile']);

/** Tar's own bytes around the data: a 512-byte header per entry (two for long names), padding, the end blocks. */
const tarOverhead = (limits: UploadLimits) => limits.maxEntries * 2048 + 10 * 1024;

export async function extractTarGz(workspace: Workspace, body: Buffer, limits: UploadLimits): Promise<PlannedEntry[]> {
  const budget = new UploadBudget(limits);
  const headers: { path: string; kind: PlannedEntry['kind']; size: number }[] = [];
  await readTar(body, limits.maxExtractedBytes + tarOverhead(limits), (entry) => {
    entry.resume();
    const path = displayPath(entry.path);
    const kind = FILE_TYPES.has(entry.type) ? 'file' : entry.type === 'Directory' ? 'directory' : null;
    if (kind === null) {
      throw new ApiError('WORKSPACE_PATH', `entry ${JSON.stringify(entry.path)} is a ${entry.type}: only regular files and folders are accepted`, {
        path: entry.path,
      });
    }
    budget.add(path, kind === 'file' ? entry.size : 0);
    headers.push({ path, kind, size: kind === 'file' ? entry.size : 0 });
  });

  const planned: PlannedEntry[] = [];
  for (const header of headers) {
    // `./`, the archive's own top folder when packed with `tar -C dir .`.
    if (header.kind === 'directory' && (header.path === '' || header.path === '.' || header.path === './')) continue;
    planned.push({ ...header, path: header.path.replace(/\/+$/, ''), abs: await resolveEntry(workspace, header.path) });
  }

  await checkConflicts(planned);
  const byPath = new Map<string, PlannedEntry>();
  for (const entry of planned) byPath.set(entry.path, entry);
  await readTar(
    body,
    limits.maxExtractedBytes + tarOverhead(limits),
    (entry, pending) => {
      const plan = byPath.get(displayPath(entry.path).replace(/\/+$/, ''));
      if (!plan || plan.kind === 'directory') {
        entry.resume();
        if (plan) pending.push(mkdir(plan.abs, { recursive: true }).then(() => undefined));
        return;
      }
      pending.push(writeEntry(entry, plan));
    },
    true,
  );
  return planned;
}

async function writeEntry(entry: ReadEntry, plan: PlannedEntry): Promise<void> {
  await mkdir(dirname(plan.abs), { recursive: true });
  await pipeline(entry as unknown as Readable, createWriteStream(plan.abs));
  // The executable bit survives (scripts the model is asked to run); nothing else of the mode does.
  if ((entry.mode ?? 0) & 0o100) await chmod(plan.abs, 0o755);
}

/**
 * Streams `gz` through gunzip (cut at `maxTarBytes`) into tar's parser and
 * calls `onEntry` for each entry, in order. Settles once the archive ended and
 * every promise `onEntry` pushed has settled; the first error wins. Archive
 * problems (not gzip, not tar, truncated) are 422 INVALID_ARCHIVE.
 */
function readTar(gz: Buffer, maxTarBytes: number, onEntry: (entry: ReadEntry, pending: Promise<void>[]) => void, noResume = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const pending: Promise<void>[] = [];
    let failed = false;
    const gunzip = createGunzip();
    const fail = (err: unknown) => {
      if (failed) return;
      failed = true;
      gunzip.destroy();
      reject(err);
    };
    const parser = new Parser({
      strict: true,
      noResume,
      onReadEntry: (entry) => {
        if (failed) return void entry.resume();
        try {
          onEntry(entry, pending);
        } catch (err) {
          entry.resume();
          fail(err);
        }
      },
    });
    let tarBytes = 0;
    gunzip.on('data', (chunk: Buffer) => {
      tarBytes += chunk.length;
      if (tarBytes > maxTarBytes) {
        fail(
          new ApiError(
            'PAYLOAD_TOO_LARGE',
            `the archive decompresses to more than ${maxTarBytes} bytes (FILES_MAX_EXTRACTED_BYTES plus tar headers); split it`,
          ),
        );
      }
    });
    gunzip.on('error', (err) => fail(new ApiError('INVALID_ARCHIVE', `the body is not a valid gzip stream (${err.message}); send a tar.gz`)));
    parser.on('error', (err: Error) => fail(new ApiError('INVALID_ARCHIVE', `the body is not a valid tar archive (${err.message}); send a tar.gz`)));
    parser.on('end', () => {
      // Entries still being written when the parser ended.
      Promise.all(pending).then(() => {
        if (!failed) resolve();
      }, fail);
    });
    gunzip.pipe(parser as unknown as NodeJS.WritableStream);
    gunzip.end(gz);
  });
}
