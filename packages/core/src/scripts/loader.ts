import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { RedisClient as Redis } from '../connection';
import { luaKeySchema } from '../keys';

/**
 * Loads `lua/<name>-<numberOfKeys>.lua`, inlines `--- @include "includes/x"`
 * lines (each include once), and defines one ioredis command per script
 * (EVALSHA with EVAL fallback), named in camelCase with a `baton` prefix:
 * `submit-root-6.lua` becomes `redis.batonSubmitRoot(6 keys, ...args)`.
 * `--- @include "generated/keys"` inlines the key schema of keys.ts.
 */
const LUA_DIR = join(__dirname, '..', 'lua');

const GENERATED_KEYS = 'generated/keys';

function resolveIncludes(source: string, seen: Set<string>): string {
  return source.replace(/^--- @include "([^"]+)"$/gm, (_line, name: string) => {
    if (seen.has(name)) return '';
    seen.add(name);
    if (name === GENERATED_KEYS) return luaKeySchema();
    return resolveIncludes(readFileSync(join(LUA_DIR, `${name}.lua`), 'utf8'), seen);
  });
}

export interface ScriptDefinition {
  command: string;
  numberOfKeys: number;
  lua: string;
}

let cache: ScriptDefinition[] | undefined;

export function loadScripts(): ScriptDefinition[] {
  if (cache) return cache;
  cache = readdirSync(LUA_DIR)
    .filter((f) => f.endsWith('.lua'))
    .map((file) => {
      const match = /^([a-z-]+)-(\d+)\.lua$/.exec(file);
      if (!match) throw new Error(`lua script ${file} is not named <verb>-<numberOfKeys>.lua`);
      const [, name, keys] = match as unknown as [string, string, string];
      const command =
        'baton' +
        name
          .split('-')
          .map((w) => w[0]!.toUpperCase() + w.slice(1))
          .join('');
      const lua = resolveIncludes(readFileSync(join(LUA_DIR, file), 'utf8'), new Set());
      return { command, numberOfKeys: Number(keys), lua };
    });
  return cache;
}

export type ScriptReply = unknown;
export type ScriptCaller = (command: string, keys: string[], args: (string | number)[]) => Promise<ScriptReply>;

/** Defines every script on the connection and returns a caller that checks the key count. */
export function installScripts(redis: Redis): ScriptCaller {
  const defs = new Map(loadScripts().map((d) => [d.command, d]));
  for (const def of defs.values()) {
    if (!(def.command in redis)) redis.defineCommand(def.command, { numberOfKeys: def.numberOfKeys, lua: def.lua });
  }
  return (command, keys, args) => {
    const def = defs.get(command);
    if (!def) throw new Error(`unknown script ${command}`);
    if (keys.length !== def.numberOfKeys) throw new Error(`${command} takes ${def.numberOfKeys} keys, got ${keys.length}`);
    const fn = (redis as unknown as Record<string, (...a: (string | number)[]) => Promise<ScriptReply>>)[command]!;
    return fn.call(redis, ...keys, ...args);
  };
}
