#!/usr/bin/env node
/**
 * Checks that the publishable packages (@baton/core, @baton/worker,
 * @baton/client) pack into tarballs a user can install and use:
 *
 * 1. `pnpm pack` each (needs `pnpm build` first): workspace:* and catalog:
 *    versions are rewritten to real ones by pnpm.
 * 2. The tarball: package.json, README.md, LICENSE, dist/index.js and
 *    dist/index.d.ts; no src/, no tests, no test helpers. The manifest: not
 *    private, a license, `exports` with types, engines.node, no workspace:
 *    or catalog: version left.
 * 3. Installed into a temporary folder with nothing of the monorepo around:
 *    the tarballs are extracted into its node_modules/@baton/*, and each
 *    declared third-party dependency is linked from the pnpm store (the
 *    check runs offline: `npm install <tarball>` would fetch those from the
 *    registry, and npm's cache is not pnpm's store). Then `require` and
 *    `import` of each package resolve there and expose the documented
 *    exports, the `baton` bin runs, and TypeScript (module node16) type-checks
 *    an import of each through `exports`' types.
 *
 * Usage: node scripts/check-pack.mjs [--keep]   (exit 0: all good; prints each problem otherwise)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const keep = process.argv.includes('--keep');

/** Each package, where it lives, and exports its README documents (checked at runtime). */
export const PACKAGES = [
  { name: '@baton/core', dir: 'packages/core', exports: ['Engine', 'TaskWorker', 'TaskContext', 'Workspace', 'BatonError', 'TaskSchema'] },
  {
    name: '@baton/worker',
    dir: 'apps/worker',
    exports: ['WorkerApp', 'defineTool', 'ToolRegistry', 'ModeRegistry', 'createAgentHandler', 'OpenAiProvider', 'DemoModel'],
  },
  {
    name: '@baton/client',
    dir: 'packages/client',
    exports: ['BatonClient', 'BatonApiError', 'TaskSchema', 'FileListingSchema', 'PendingInputSchema'],
    bin: 'baton',
  },
];

const problems = [];
const fail = (msg) => problems.push(msg);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

const work = mkdtempSync(join(tmpdir(), 'baton-pack-'));
const tarballs = join(work, 'tarballs');
const app = join(work, 'app');
mkdirSync(tarballs);
mkdirSync(join(app, 'node_modules', '@baton'), { recursive: true });
writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true }));

try {
  for (const pkg of PACKAGES) {
    const dir = join(ROOT, pkg.dir);
    if (!existsSync(join(dir, 'dist', 'index.d.ts'))) throw new Error(`${pkg.name}: dist/ is missing; run \`pnpm build\` first`);
    const out = run('pnpm', ['pack', '--pack-destination', tarballs], { cwd: dir });
    const tarball = out
      .trim()
      .split('\n')
      .filter((l) => l.endsWith('.tgz'))
      .at(-1);
    if (!tarball || !existsSync(tarball)) throw new Error(`${pkg.name}: pnpm pack printed no tarball:\n${out}`);
    pkg.tarball = tarball;

    const files = run('tar', ['-tzf', tarball]).trim().split('\n');
    for (const required of ['package/package.json', 'package/README.md', 'package/LICENSE', 'package/dist/index.js', 'package/dist/index.d.ts']) {
      if (!files.includes(required)) fail(`${pkg.name}: ${required} is not in the tarball`);
    }
    for (const f of files) {
      if (f.startsWith('package/src/')) fail(`${pkg.name}: source file ${f} is in the tarball`);
      if (/\.test\.|\/test-utils\/|\/testing\//.test(f)) fail(`${pkg.name}: test file ${f} is in the tarball`);
    }
    if (!files.some((f) => f.startsWith('package/dist/') && f.endsWith('.d.ts'))) fail(`${pkg.name}: no .d.ts in dist/`);

    const target = join(app, 'node_modules', ...pkg.name.split('/'));
    mkdirSync(target, { recursive: true });
    run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1']);
    const manifest = JSON.parse(readFileSync(join(target, 'package.json'), 'utf8'));
    pkg.manifest = manifest;
    if (manifest.private) fail(`${pkg.name}: package.json says private`);
    if (manifest.license !== 'MIT') fail(`${pkg.name}: license is ${manifest.license}, not MIT`);
    if (!manifest.description) fail(`${pkg.name}: no description`);
    if (!manifest.repository?.url) fail(`${pkg.name}: no repository`);
    if (manifest.engines?.node !== '>=22') fail(`${pkg.name}: engines.node is ${manifest.engines?.node}`);
    if (!manifest.exports?.['.']?.types) fail(`${pkg.name}: exports["."] has no types`);
    for (const [dep, version] of Object.entries({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (/^(workspace|catalog):/.test(version)) fail(`${pkg.name}: dependency ${dep} is still ${version}`);
    }
  }

  // Third-party dependencies, linked from where pnpm installed them for the package (their own deps resolve from the store).
  const linked = new Set();
  const link = (name, fromDir) => {
    if (linked.has(name)) return;
    const source = join(fromDir, 'node_modules', name);
    if (!existsSync(source)) return fail(`dependency ${name} of ${fromDir} is not installed; run pnpm install`);
    const dest = join(app, 'node_modules', name);
    mkdirSync(dirname(dest), { recursive: true });
    symlinkSync(realpathSync(source), dest, 'dir');
    linked.add(name);
  };
  for (const pkg of PACKAGES) {
    for (const dep of Object.keys(pkg.manifest.dependencies ?? {})) {
      if (!dep.startsWith('@baton/')) link(dep, join(ROOT, pkg.dir));
      else if (!PACKAGES.some((p) => p.name === dep)) fail(`${pkg.name}: depends on ${dep}, which is not published`);
    }
  }
  link('@types/node', ROOT);

  for (const pkg of PACKAGES) {
    const names = JSON.stringify(pkg.exports);
    const cjs = `const m = require(${JSON.stringify(pkg.name)}); const missing = ${names}.filter((n) => m[n] === undefined); if (missing.length) { console.error('missing: ' + missing.join(', ')); process.exit(1); }`;
    const esm = `import * as m from ${JSON.stringify(pkg.name)}; const missing = ${names}.filter((n) => m[n] === undefined); if (missing.length) { console.error('missing: ' + missing.join(', ')); process.exit(1); }`;
    for (const [kind, args] of [
      ['require', ['-e', cjs]],
      ['import', ['--input-type=module', '-e', esm]],
    ]) {
      const r = spawnSync(process.execPath, args, { cwd: app, encoding: 'utf8' });
      if (r.status !== 0) fail(`${pkg.name}: ${kind} failed in a clean folder:\n${r.stderr.trim()}`);
    }
    if (pkg.bin) {
      const bin = pkg.manifest.bin?.[pkg.bin];
      const r = bin ? spawnSync(process.execPath, [join(app, 'node_modules', ...pkg.name.split('/'), bin), '--version'], { cwd: app, encoding: 'utf8' }) : null;
      if (!r || r.status !== 0 || r.stdout.trim() !== pkg.manifest.version)
        fail(`${pkg.name}: bin ${pkg.bin} --version did not print ${pkg.manifest.version}: ${r?.stderr ?? 'no bin'}`);
    }
  }

  // Types through `exports` (node16 resolution reads the "types" condition).
  writeFileSync(
    join(app, 'check.ts'),
    PACKAGES.map((p, i) => `import * as m${i} from '${p.name}';\nexport const used${i} = [${p.exports.map((e) => `m${i}.${e}`).join(', ')}];`).join('\n') +
      '\n',
  );
  writeFileSync(
    join(app, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'es2022', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] },
      files: ['check.ts'],
    }),
  );
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const typed = spawnSync(process.execPath, [tsc, '-p', app], { cwd: app, encoding: 'utf8' });
  if (typed.status !== 0) fail(`TypeScript could not type-check imports of the packed packages:\n${typed.stdout}${typed.stderr}`);
} catch (err) {
  fail(err instanceof Error ? err.message : String(err));
} finally {
  if (!keep) rmSync(work, { recursive: true, force: true });
  else console.log(`kept ${work}`);
}

if (problems.length) {
  console.error(`check-pack: ${problems.length} problem(s):\n${problems.map((p) => `- ${p}`).join('\n')}`);
  process.exit(1);
}
console.log(`check-pack: ${PACKAGES.map((p) => p.name).join(', ')} pack, install and load (require, import, types) in a clean folder`);
