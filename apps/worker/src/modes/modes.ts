import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Modes: what a task is (system prompt, allowed tools, optional model).
 * Built-ins follow the agent Baton was made for; MODES_FILE (JSON or YAML)
 * adds modes or overrides built-ins by name.
 */

export const ModeSchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'mode names are 1 to 64 of A-Z a-z 0-9 _ -'),
  systemPrompt: z.string().min(1),
  /** Overrides LLM_MODEL for tasks of this mode. */
  model: z.string().min(1).optional(),
  /** Tool names offered to the model (built-in `new_task`, `attempt_completion`, or registered user tools). */
  tools: z.array(z.string().min(1)).default(['attempt_completion']),
});
export type Mode = z.output<typeof ModeSchema>;

/** A modes file: a list of modes, or `{ modes: [...] }`. */
export const ModesFileSchema = z.preprocess(
  (raw) => (raw && typeof raw === 'object' && !Array.isArray(raw) && 'modes' in raw ? (raw as { modes: unknown }).modes : raw),
  z.array(ModeSchema),
);

const COMPLETE = 'When the work is done, call attempt_completion with a concise result.';

export const BUILT_IN_MODES: readonly Mode[] = [
  {
    name: 'orchestrator',
    systemPrompt:
      'You are an orchestrator. Break the request into steps and delegate each step with new_task ' +
      '(mode: code, ask, architect or debug; message: a self-contained instruction). Delegate one step at a ' +
      `time and use each result before the next. ${COMPLETE}`,
    tools: ['new_task', 'attempt_completion'],
  },
  { name: 'code', systemPrompt: `You are an expert software engineer. Implement the requested change. ${COMPLETE}`, tools: ['attempt_completion'] },
  { name: 'ask', systemPrompt: `You answer questions accurately and briefly. ${COMPLETE}`, tools: ['attempt_completion'] },
  { name: 'architect', systemPrompt: `You design software: plans, trade-offs, interfaces. ${COMPLETE}`, tools: ['attempt_completion'] },
  { name: 'debug', systemPrompt: `You find the root cause of bugs and propose the smallest fix. ${COMPLETE}`, tools: ['attempt_completion'] },
];

export class ModeRegistry {
  private readonly modes = new Map<string, Mode>();

  constructor(modes: readonly Mode[] = BUILT_IN_MODES) {
    for (const mode of modes) this.set(mode);
  }

  set(mode: Mode): void {
    this.modes.set(mode.name, ModeSchema.parse(mode));
  }

  get(name: string): Mode | undefined {
    return this.modes.get(name);
  }

  names(): string[] {
    return [...this.modes.keys()];
  }

  /** Checks every mode's tools exist; returns the problems. */
  unknownTools(known: (name: string) => boolean): string[] {
    return [...this.modes.values()].flatMap((m) => m.tools.filter((t) => !known(t)).map((t) => `mode ${m.name}: unknown tool ${t}`));
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
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`MODES_FILE ${fileName} is invalid:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
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
