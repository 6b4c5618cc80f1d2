import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from '@baton/testkit';

/**
 * Publishable packages: @baton/core, @baton/worker and
 * @baton/client pack with `pnpm pack`, and the tarballs load with require,
 * import and TypeScript in a folder outside the monorepo. The work is in
 * scripts/check-pack.mjs (also runnable by hand); this runs it on the built
 * packages (`pnpm build` first, as `pnpm test` does).
 */
test('pnpm pack of core, worker and client gives tarballs that install and load in a clean folder', () => {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts', 'check-pack.mjs')], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 110_000 });
  expect(r.stderr).toBe('');
  expect(r.stdout).toContain('check-pack: @baton/core, @baton/worker, @baton/client pack, install and load');
  expect(r.status).toBe(0);
});
