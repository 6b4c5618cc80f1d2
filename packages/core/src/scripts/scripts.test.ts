import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { luaKeySchema, SessionKey } from '../keys';
import { loadScripts } from './loader';
import { ScriptFixture } from './script-fixture';

describe('Scripts', () => {
  const f = new ScriptFixture('scripts');
  afterAll(() => f.close());

  it('has one method per Lua script (batonSubmitRoot -> submitRoot)', () => {
    const files = readdirSync(join(__dirname, '..', 'lua')).filter((x) => x.endsWith('.lua'));
    expect(loadScripts()).toHaveLength(files.length);
    const missing = loadScripts()
      .map((d) => d.command.slice('baton'.length))
      .map((name) => name[0]!.toLowerCase() + name.slice(1))
      .filter((method) => typeof (f.scripts as unknown as Record<string, unknown>)[method] !== 'function');
    expect(missing).toEqual([]);
  });

  it('gives Lua the key names of keys.ts (generated, not mirrored)', async () => {
    const lua = `${luaKeySchema()}
      local out = { taskKey(ARGV[1], ARGV[2]), childrenKey(ARGV[1], ARGV[2]), convKey(ARGV[1], ARGV[2]), gateKey(ARGV[1], ARGV[2]),
        taskSubKey(taskKey(ARGV[1], ARGV[2]), TASK_KEY.conv) }
      for _, name in ipairs(SESSION_KEYS) do out[#out + 1] = sessionKey(ARGV[1], name) end
      return out`;
    const base = f.keys.sessionBase('s');
    const got = await f.redis.eval(lua, 0, base, 't1');
    expect(got).toEqual([
      f.keys.task('s', 't1'),
      f.keys.children('s', 't1'),
      f.keys.conversation('s', 't1'),
      f.keys.gate('s', 't1'),
      f.keys.conversation('s', 't1'),
      ...Object.keys(SessionKey).map((name) => f.keys.ofSession('s', name as keyof typeof SessionKey)),
    ]);
  });

  it('every script that builds keys inlines the generated schema, and none spells a key suffix itself', () => {
    for (const def of loadScripts()) {
      expect(def.lua.replace(luaKeySchema(), '')).not.toMatch(/\.\. ':(task|session|lane|active|parked|fence|events|roots|unindexed|children|conv|gate)\b/);
    }
  });
});
