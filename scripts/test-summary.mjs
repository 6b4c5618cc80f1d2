// Prints the closing `N passed, N failed` line CI reads, from jest's --json report,
// plus the counts of extra checks (the proof commands) given as arguments 3 and 4.
import { existsSync, readFileSync } from 'node:fs';
const file = process.argv[2];
const extraPassed = Number(process.argv[3] ?? 0);
const extraFailed = Number(process.argv[4] ?? 0);
if (!file || !existsSync(file)) {
  console.log(`${extraPassed} passed, ${extraFailed + 1} failed (no jest report: the run stopped before the tests)`);
  process.exit(0);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
console.log(`${r.numPassedTests + extraPassed} passed, ${failed + extraFailed} failed`);
