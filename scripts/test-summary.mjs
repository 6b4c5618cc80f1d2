// Prints the closing `N passed, N failed` line CI reads, from jest's --json report.
import { existsSync, readFileSync } from 'node:fs';
const file = process.argv[2];
if (!file || !existsSync(file)) {
  console.log('0 passed, 1 failed (no jest report: the run stopped before the tests)');
  process.exit(0);
}
const r = JSON.parse(readFileSync(file, 'utf8'));
const failed = r.numFailedTests + (r.numRuntimeErrorTestSuites ?? 0);
console.log(`${r.numPassedTests} passed, ${failed} failed`);
