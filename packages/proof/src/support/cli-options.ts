/** `--name value` / `--name=value` flags with environment fallbacks, for the proof commands. */
export function numberOption(argv: string[], name: string, envName: string, fallback: number): number {
  const raw = stringOption(argv, name, envName);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${raw}`);
  return n;
}

export function stringOption(argv: string[], name: string, envName: string): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === `--${name}`) return argv[i + 1];
    if (arg.startsWith(`--${name}=`)) return arg.slice(name.length + 3);
  }
  return process.env[envName] || undefined;
}
