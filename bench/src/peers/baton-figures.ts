/**
 * Baton's headline numbers from earlier benchmarks of the same run, for the
 * peer rows. A peer never reruns Baton's side: it reads what `throughput`,
 * `handoff` and `resume` measured (BenchReport.figures), so `--only=peers`
 * alone prints the peer's figures with the Baton cell saying what to add.
 */
import type { BenchReport } from '../report';

export interface BatonFigure {
  value: number | undefined;
  /** The bench to add to `--only` when the figure is missing. */
  from: string;
}

export function batonFigure(earlier: BenchReport[], bench: string, key: string): BatonFigure {
  const report = earlier.find((r) => r.name === bench);
  const value = report?.figures?.[key];
  return { value: value !== undefined && Number.isFinite(value) ? value : undefined, from: bench };
}

export function notRun(figure: BatonFigure): string {
  return `not run (add ${figure.from} to --only)`;
}
