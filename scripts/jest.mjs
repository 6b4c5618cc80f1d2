// Runs jest for the workspace; with BATON_JEST_JSON set, also writes jest's JSON report there.
import { spawnSync } from 'node:child_process';
const args = ['jest', ...process.argv.slice(2)];
if (process.env.BATON_JEST_JSON) args.push('--json', `--outputFile=${process.env.BATON_JEST_JSON}`);
const r = spawnSync('npx', args, { stdio: 'inherit' });
process.exit(r.status ?? 1);
