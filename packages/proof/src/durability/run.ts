/**
 * Durability run: `node packages/proof/dist/durability/run.js [--roots 60] [--outage-ms 1000]
 * [--down-ms 2000] [--freeze-ms 3000] [--command-timeout-ms 1500]` (or DURABILITY_ROOTS, DURABILITY_OUTAGE_MS,
 * DURABILITY_DOWN_MS, DURABILITY_FREEZE_MS, DURABILITY_COMMAND_TIMEOUT_MS). Two cases, each on its own
 * redis-server (AOF, appendfsync always) on a free port: a Redis crash mid-run (accepted
 * tasks complete, none twice), then Redis outages under load (kill and restart, freeze
 * past the command timeout: 503 within the timeout, refused submissions never appear).
 * Exit 0 when every check passes.
 */
import { numberOption } from '../support/cli-options';
import { runOutage } from '../outage/outage-run';
import { runDurability } from './durability-run';

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log('== crash: Redis killed mid-run and restarted');
  const crash = await runDurability({
    roots: numberOption(argv, 'roots', 'DURABILITY_ROOTS', 60),
    outageMs: numberOption(argv, 'outage-ms', 'DURABILITY_OUTAGE_MS', 1000),
    log,
  });
  log(`figures: ${JSON.stringify(crash.figures, null, 2)}`);
  for (const [name, ok] of Object.entries(crash.checks)) log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);

  log('== outage: Redis down, then frozen, under a steady stream of submissions');
  const outage = await runOutage({
    outageMs: numberOption(argv, 'down-ms', 'DURABILITY_DOWN_MS', 2000),
    freezeMs: numberOption(argv, 'freeze-ms', 'DURABILITY_FREEZE_MS', 3000),
    commandTimeoutMs: numberOption(argv, 'command-timeout-ms', 'DURABILITY_COMMAND_TIMEOUT_MS', 1500),
    log,
  });
  log(`figures: ${JSON.stringify(outage.figures, null, 2)}`);
  for (const [name, ok] of Object.entries(outage.checks)) log(`${ok ? 'PASS' : 'FAIL'}  ${name}`);
  return [...Object.values(crash.checks), ...Object.values(outage.checks)].every(Boolean) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`durability run failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(2);
  },
);
