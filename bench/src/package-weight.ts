/**
 * What a dependency weighs on disk: the package and its runtime dependency
 * closure (`dependencies`, not optional peers), as installed. Packages are
 * found by walking up `node_modules` folders from the requiring package's
 * real path (pnpm's layout puts a package's dependencies beside it), so a
 * package whose `exports` hide package.json is found too.
 */
import { existsSync, readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface PackageWeight {
  name: string;
  version: string;
  /** Packages in the closure, the package itself included. */
  packages: number;
  bytes: number;
}

function findPackageDir(name: string, fromDir: string): string | null {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dirname(dir) === dir) return null;
  }
}

function dirBytes(dir: string): number {
  let bytes = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    // A package's own node_modules holds its dependencies (counted once each, below) or nothing.
    if (entry.name === 'node_modules') continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) bytes += dirBytes(path);
    else if (entry.isFile()) bytes += statSync(path).size;
  }
  return bytes;
}

export function packageWeight(name: string, fromDir: string = __dirname): PackageWeight {
  const root = findPackageDir(name, fromDir);
  if (!root) throw new Error(`package ${name} not found from ${fromDir}`);
  const seen = new Set<string>();
  const queue = [root];
  let bytes = 0;
  while (queue.length) {
    const dir = queue.pop()!;
    if (seen.has(dir)) continue;
    seen.add(dir);
    bytes += dirBytes(dir);
    const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
    for (const dep of Object.keys(manifest.dependencies ?? {})) {
      const found = findPackageDir(dep, dir);
      if (found) queue.push(found);
    }
  }
  const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
  return { name, version, packages: seen.size, bytes };
}
