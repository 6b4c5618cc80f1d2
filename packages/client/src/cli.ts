#!/usr/bin/env node
/** The `baton` command: see `baton help` (cli/args.ts) for commands and exit codes. */
import { runCli } from './cli/run-cli';

const abort = new AbortController();
// First Ctrl-C stops a watch cleanly (exit 130); a second one kills at once.
process.once('SIGINT', () => {
  abort.abort();
  process.once('SIGINT', () => process.exit(130));
});

runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  signal: abort.signal,
  stdin: process.stdin,
}).then(
  (code) => {
    process.exitCode = abort.signal.aborted ? 130 : code;
  },
  (err: unknown) => {
    process.stderr.write(`baton: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 70;
  },
);
