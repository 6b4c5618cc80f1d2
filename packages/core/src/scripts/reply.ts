import type { ResolvedEngineOptions } from '../config';
import { ScriptCode, type ScriptCodeName } from '../errors';
import type { Keys } from '../keys';
import type { ScriptCaller } from './loader';

/** What every script wrapper needs: the caller, the key schema and the resolved options. */
export interface ScriptEnv {
  readonly run: ScriptCaller;
  readonly keys: Keys;
  readonly options: ResolvedEngineOptions;
}

/** The events-trim argument of every script that emits: `<maxLen>:<maxAgeMs>` (see lua/includes/common emit). */
export function eventsTrim(options: ResolvedEngineOptions): string {
  return `${options.eventsMaxLen}:${options.eventsMaxAgeMs}`;
}

const NAMES = new Map<number, ScriptCodeName>((Object.entries(ScriptCode) as [ScriptCodeName, number][]).map(([name, code]) => [code, name]));

/** The one place a script's integer code becomes a name (ScriptCode in errors.ts). */
export function scriptCodeName(code: unknown): ScriptCodeName {
  // Only an integer reads as a code: Number(null), Number('') and Number([]) are 0, which is `ok`.
  const n = typeof code === 'number' ? code : typeof code === 'string' && /^-?\d+$/.test(code) ? Number(code) : NaN;
  const name = NAMES.get(n);
  if (!name) throw new UnexpectedReplyError('script', code);
  return name;
}

/** A script answered something its wrapper does not know: a Lua file and its wrapper disagree. */
export class UnexpectedReplyError extends Error {
  constructor(script: string, reply: unknown) {
    super(`${script}: unexpected reply ${JSON.stringify(reply)}`);
    this.name = 'UnexpectedReplyError';
  }
}

/** A task a script cancelled, with the status it had. */
export interface CancelledTask {
  taskId: string;
  previous: string;
}

/** `{id, previous, id, previous, ...}` as the cancel scripts return them. */
export function cancelledPairs(flat: string[]): CancelledTask[] {
  const out: CancelledTask[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push({ taskId: flat[i]!, previous: flat[i + 1]! });
  return out;
}

/** An HGETALL reply (flat field/value list) as a record. */
export function hashOf(flat: string[]): Record<string, string> {
  const hash: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) hash[flat[i]!] = flat[i + 1]!;
  return hash;
}
