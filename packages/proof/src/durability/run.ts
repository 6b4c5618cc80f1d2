/**
 * Durability run: `node packages/proof/dist/durability/run.js [--roots 60] [--outage-ms 1000]`
 * (or DURABILITY_ROOTS, DURABILITY_OUTAGE_MS). Starts its own redis-server
 * (AOF, appendfsync always) on a free port; exit 0 when every check passes.
 */
import { numberOption } from '../support/cli-options';
import { runDurability } from './durability-run';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  const { figures, checks } = await runDurability({
    roots: numberOption(argv, 'roots', 'DURABILITY_ROOTS', 60),
    outageMs: numberOption(argv, 'outage-ms', 'DURABILITY_OUTAGE_MS', 1000),
    log,
  });
  log(`figures: ${JSON.stringify(figures, null, 2)}`);
  for (const [name, ok] of Object.entries(checks)) log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
  return Object.values(checks).every(Boolean) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`durability run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
