import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { BUILT_IN_MODES } from './built-in-modes';
import { AnyModeSchema, type LegacyModeConfig, type Mode, type ModeConfig } from './mode-schema';

export { BUILT_IN_MODES } from './built-in-modes';
export * from './mode-schema';

/**
 * Modes: what a task is (role, tool groups, optional model, approvals).
 * Built-ins follow KiloCode; MODES_FILE (JSON or YAML) adds modes or
 * overrides built-ins by slug.
 */

/**
 * A modes file: KiloCode's `{ customModes: [...] }` (its custom_modes.yaml
 * or .kilocodemodes), a plain list, or Baton's older `{ modes: [...] }`.
 */
export const ModesFileSchema = z.preprocess(
  (raw) => {
    if (raw && typeof raw === 'object' && !Array.isArray(raw)) {
      if ('customModes' in raw) return (raw as { customModes: unknown }).customModes;
      if ('modes' in raw) return (raw as { modes: unknown }).modes;
    }
    return raw;
  },
  z.array(AnyModeSchema, { error: 'a modes file is a list of modes, or { customModes: [...] }' }),
);

/** What a registry accepts: a mode in either file format, or an already normalised one. */
export type ModeInput = ModeConfig | LegacyModeConfig | Mode;

export class ModeRegistry {
  private readonly modes = new Map<string, Mode>();
  private changes = 0;

  constructor(modes: readonly ModeInput[] = BUILT_IN_MODES) {
    for (const mode of modes) this.set(mode);
  }

  set(input: ModeInput): void {
    // A normalised legacy mode carries legacyTools, which no file format has.
    const { legacyTools, ...rest } = input as Mode;
    const mode = AnyModeSchema.parse(rest);
    if (legacyTools) mode.legacyTools = [...legacyTools];
    this.modes.set(mode.slug, mode);
    this.changes++;
  }

  /** Grows with every set: what was derived from the modes (a request's tools and prompt) is stale when it moved. */
  get revision(): number {
    return this.changes;
  }

  get(slug: string): Mode | undefined {
    return this.modes.get(slug);
  }

  /** The slugs, in registration order (built-ins first). */
  slugs(): string[] {
    return [...this.modes.keys()];
  }

  /** Same as slugs() (older name). */
  names(): string[] {
    return this.slugs();
  }

  list(): Mode[] {
    return [...this.modes.values()];
  }

  /** Checks that every tool a mode names exists; returns the problems. */
  unknownTools(known: (name: string) => boolean): string[] {
    return this.list().flatMap((m) => [...(m.legacyTools ?? []), ...(m.tools ?? [])].filter((t) => !known(t)).map((t) => `mode ${m.slug}: unknown tool ${t}`));
  }
}

/** Parses a modes file's text (JSON or YAML, chosen by extension; YAML also reads JSON). */
export function parseModesFile(text: string, fileName: string): Mode[] {
  let raw: unknown;
  try {
    raw = extname(fileName).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new Error(`MODES_FILE ${fileName}: not valid ${extname(fileName) === '.json' ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  const parsed = ModesFileSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(`MODES_FILE ${fileName} is invalid:\n${z.prettifyError(parsed.error)}`);
  }
  const seen = new Set<string>();
  for (const mode of parsed.data) {
    if (seen.has(mode.slug)) throw new Error(`MODES_FILE ${fileName} is invalid: mode slug "${mode.slug}" appears twice`);
    seen.add(mode.slug);
  }
  return parsed.data;
}

/** Built-in modes, with those of `modesFile` (if any) added or overriding. */
export function loadModes(modesFile?: string): ModeRegistry {
  const registry = new ModeRegistry();
  if (modesFile) {
    let text: string;
    try {
      text = readFileSync(modesFile, 'utf8');
    } catch (err) {
      throw new Error(`MODES_FILE ${modesFile} cannot be read: ${(err as Error).message}`);
    }
    for (const mode of parseModesFile(text, modesFile)) registry.set(mode);
  }
  return registry;
}
