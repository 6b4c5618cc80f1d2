import { lstat, readdir, readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import ignore, { type Ignore } from 'ignore';

/**
 * The folder walk behind list_files and search_files, with ripgrep's default
 * filtering done in JavaScript (the `ignore` package reads .gitignore the way
 * git does), so the worker image needs no `rg` binary:
 * - `.git` and `node_modules` are always skipped;
 * - every `.gitignore` from the workspace root down to a folder applies to it
 *   (nested ones relative to their own folder, as git reads them);
 * - symbolic links are listed but never followed (a link cannot lead the
 *   walk out of the workspace, or into a loop).
 * Unlike rg, hidden files (dotfiles) are included: a coding agent needs to
 * see `.env.example` or `.github/`. Entries come breadth first, sorted by name
 * in each folder, so a capped listing shows the top of the tree first.
 */

export const ALWAYS_SKIPPED = new Set(['.git', 'node_modules']);

export interface WalkEntry {
  /** Workspace-relative, `/`-separated. */
  path: string;
  kind: 'dir' | 'file' | 'link' | 'other';
}

interface Rules {
  /** Workspace-relative folder the .gitignore is in ('' for the root). */
  base: string;
  rules: Ignore;
}

async function rulesOf(absDir: string, base: string): Promise<Rules | undefined> {
  const text = await readFile(join(absDir, '.gitignore'), 'utf8').catch(() => undefined);
  return text === undefined ? undefined : { base, rules: ignore().add(text) };
}

function ignored(chain: readonly Rules[], path: string, isDir: boolean): boolean {
  return chain.some(({ base, rules }) => {
    const rel = base === '' ? path : posix.relative(base, path);
    return rules.ignores(isDir ? `${rel}/` : rel);
  });
}

/**
 * Walks `start` (workspace-relative folder, '' for the root) under the real
 * workspace folder `root`, yielding each entry that is not ignored. `onDir`
 * decides whether to descend (false: only the first level).
 */
export async function* walk(root: string, start: string, options: { recursive: boolean; signal?: AbortSignal }): AsyncGenerator<WalkEntry> {
  // The rules of the folders above `start` apply too.
  const chain: Rules[] = [];
  const parts = start === '' ? [] : start.split('/');
  for (let k = 0; k <= parts.length; k++) {
    const base = parts.slice(0, k).join('/');
    const rules = await rulesOf(join(root, base), base);
    if (rules) chain.push(rules);
  }
  const queue: { dir: string; chain: Rules[] }[] = [{ dir: start, chain }];
  while (queue.length > 0) {
    options.signal?.throwIfAborted();
    const { dir, chain: rules } = queue.shift()!;
    const names = (await readdir(join(root, dir)).catch(() => [] as string[])).sort();
    for (const name of names) {
      if (ALWAYS_SKIPPED.has(name)) continue;
      const path = dir === '' ? name : `${dir}/${name}`;
      const stat = await lstat(join(root, path)).catch(() => undefined);
      if (!stat) continue;
      const kind: WalkEntry['kind'] = stat.isSymbolicLink() ? 'link' : stat.isDirectory() ? 'dir' : stat.isFile() ? 'file' : 'other';
      if (ignored(rules, path, kind === 'dir')) continue;
      yield { path, kind };
      if (kind === 'dir' && options.recursive) {
        const own = await rulesOf(join(root, path), path);
        queue.push({ dir: path, chain: own ? [...rules, own] : rules });
      }
    }
  }
}
