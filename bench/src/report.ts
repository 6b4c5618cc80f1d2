/** One row of the results table. */
export interface ResultRow {
  bench: string;
  metric: string;
  baton: string;
  baseline: string;
  /** Baseline's name (what `baseline` is). */
  baselineName: string;
  target: string;
  /** MET / MISSED / '' (informational). */
  verdict: '' | 'MET' | 'MISSED';
  note?: string;
}

export interface BenchReport {
  name: string;
  title: string;
  rows: ResultRow[];
  /** Free text: how it was measured, sizes, why a target was missed. */
  notes: string[];
  /** Baton's headline numbers, for later benchmarks of the same run to compare against (see peers/baton-figures.ts). */
  figures?: Record<string, number>;
}

export function verdict(ok: boolean): 'MET' | 'MISSED' {
  return ok ? 'MET' : 'MISSED';
}
