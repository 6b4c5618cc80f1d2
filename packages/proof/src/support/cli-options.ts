import { parseArgs } from 'node:util';

/**
 * `--name value` or `--name=value` on the command line, else the environment variable, else the
 * fallback. Unknown flags are left to the caller's other options (each run reads only its own).
 */
export function numberOption(argv: string[], name: string, envName: string, fallback: number): number {
  const raw = stringOption(argv, name, envName);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${raw}`);
  return n;
}

export function stringOption(argv: string[], name: string, envName: string): string | undefined {
  const { values } = parseArgs({ args: argv, options: { [name]: { type: 'string' } }, strict: false, allowPositionals: true });
  const value = values[name];
  return (typeof value === 'string' ? value : undefined) ?? (process.env[envName] || undefined);
}
