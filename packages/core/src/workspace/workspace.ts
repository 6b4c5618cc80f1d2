import { lstat, mkdir, realpath } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { BatonError } from '../errors';
import { IdSchema } from '../model/task';

/**
 * A session's workspace: the folder `<root>/<tenant>/<session>` that every
 * task of the session reads and writes (which is how a subtask's files reach
 * its parent). The API seeds and reads it; the worker's tools work in it.
 *
 * Every path a model or a user gives is resolved inside it, and refused when
 * it is absolute, climbs out with `..`, or goes through a symlink that points
 * outside. The symlink check resolves the deepest part of the path that exists
 * (`realpath`), so a link created by an earlier command cannot be used to
 * escape either. Refusals are `WORKSPACE_PATH` errors whose message says why.
 */
export class Workspace {
  private realDir: string | undefined;

  constructor(
    /** Absolute folder of this session's workspace. */
    readonly dir: string,
  ) {}

  /** `<root>/<tenant>/<session>`; tenant and session must be ids (no separators, no `..`). */
  static of(root: string, tenant: string, sessionId: string): Workspace {
    for (const [what, id] of [
      ['tenant', tenant],
      ['session id', sessionId],
    ] as const) {
      if (!IdSchema.safeParse(id).success || id === '.' || id === '..') {
        throw new BatonError('INVALID_INPUT', `${what} ${JSON.stringify(id)} cannot name a workspace folder`);
      }
    }
    return new Workspace(join(resolve(root), tenant, sessionId));
  }

  /** Creates the folder if needed; returns its real path. */
  async ensure(): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    this.realDir ??= await realpath(this.dir);
    return this.realDir;
  }

  /**
   * The absolute path of `path` (relative to the workspace; `''` or `.` is the
   * workspace itself), after checking that neither the path nor any symlink on
   * it leads outside. The target need not exist.
   */
  async resolve(path: string): Promise<string> {
    const rel = lexicalInside(path);
    const root = await this.ensure();
    const target = rel === '' ? root : join(root, rel);
    // The deepest existing ancestor (or the target) decides where symlinks lead.
    let existing = target;
    let rest = '';
    for (;;) {
      try {
        const real = await realpath(existing);
        if (!inside(root, real)) throw refused(path, 'it goes through a symbolic link that points outside the workspace');
        return rest ? join(real, rest) : real;
      } catch (err) {
        if (err instanceof BatonError) throw err;
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
        // A dangling link: writing through it would create its target, wherever that is.
        if (await isSymlink(existing)) throw refused(path, 'it goes through a symbolic link whose target does not exist');
        if (existing === root) throw err;
        const parent = dirname(existing);
        rest = rest ? join(existing.slice(parent.length + 1), rest) : existing.slice(parent.length + 1);
        existing = parent;
      }
    }
  }

  /** The workspace-relative form of an absolute path inside it (for messages to the model). */
  relative(absolute: string): string {
    const rel = relative(this.realDir ?? this.dir, absolute);
    return rel === '' ? '.' : rel.split(sep).join('/');
  }
}

/** Lexical check: relative, no NUL, never above the workspace. Returns the normalised relative path. */
function lexicalInside(path: string): string {
  if (typeof path !== 'string') throw refused(String(path), 'it is not a string');
  if (path.includes('\0')) throw refused(path, 'it contains a NUL character');
  if (isAbsolute(path) || /^[A-Za-z]:[\\/]/.test(path)) throw refused(path, 'absolute paths are not allowed; give a path relative to the workspace');
  const normal = join('.', path);
  if (normal === '..' || normal.startsWith(`..${sep}`)) throw refused(path, 'it leads outside the workspace');
  return normal === '.' ? '' : normal;
}

async function isSymlink(path: string): Promise<boolean> {
  try {
    return (await lstat(path)).isSymbolicLink();
  } catch {
    return false;
  }
}

function inside(root: string, real: string): boolean {
  return real === root || real.startsWith(root.endsWith(sep) ? root : root + sep);
}

function refused(path: string, why: string): BatonError {
  return new BatonError('WORKSPACE_PATH', `path ${JSON.stringify(path)} is refused: ${why}`);
}
