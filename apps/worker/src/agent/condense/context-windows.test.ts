import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ContextWindows, loadContextWindows, parseContextWindows } from './context-windows';

describe('context windows', () => {
  const defaults = { contextWindow: 128_000, condenseAt: 0.8 };

  it('exact name, then the longest pattern, then the defaults; condenseAt defaults per model', () => {
    const w = new ContextWindows(
      parseContextWindows({
        'gpt-4o': { contextWindow: 100_000 },
        'claude-*': { contextWindow: 200_000, condenseAt: 0.5 },
        'claude-haiku*': { contextWindow: 50_000 },
      }),
      defaults,
    );
    expect(w.limitOf('gpt-4o')).toEqual({ contextWindow: 100_000, condenseAt: 0.8 });
    expect(w.limitOf('claude-sonnet-4-5')).toEqual({ contextWindow: 200_000, condenseAt: 0.5 });
    expect(w.limitOf('claude-haiku-4-5')).toEqual({ contextWindow: 50_000, condenseAt: 0.8 });
    expect(w.limitOf('unknown')).toEqual(defaults);
    expect(w.thresholdOf('claude-sonnet-4-5')).toBe(100_000);
  });

  it('accepts the map under `models:`', () => {
    expect(parseContextWindows({ models: { m: { contextWindow: 8000 } } })).toEqual({ m: { contextWindow: 8000 } });
  });

  it('refuses bad entries with the model and what is wrong', () => {
    expect(() => parseContextWindows({ m: { contextWindow: 10 } })).toThrow(/✖ at least 1000 tokens\n {2}→ at m\.contextWindow/);
    expect(() => parseContextWindows({ m: { contextWindow: 8000, condenseAt: 1.5 } })).toThrow(/✖ a share of the window, at most 1\n {2}→ at m\.condenseAt/);
    expect(() => parseContextWindows({ m: { contextWindow: 8000, window: 1 } })).toThrow(/CONTEXT_WINDOWS_FILE is invalid/);
    expect(() => parseContextWindows({ 'a*b': { contextWindow: 8000 } })).toThrow(/one \* at the end only/);
  });

  it('loads YAML and JSON files; a missing or broken file says which', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctxw-'));
    try {
      writeFileSync(join(dir, 'w.yaml'), 'm:\n  contextWindow: 9000\n  condenseAt: 0.5\n');
      expect(loadContextWindows(join(dir, 'w.yaml'), defaults).thresholdOf('m')).toBe(4500);
      writeFileSync(join(dir, 'w.json'), '{"m": {"contextWindow": 9000}}');
      expect(loadContextWindows(join(dir, 'w.json'), defaults).limitOf('m')).toEqual({ contextWindow: 9000, condenseAt: 0.8 });
      writeFileSync(join(dir, 'bad.json'), '{');
      expect(() => loadContextWindows(join(dir, 'bad.json'), defaults)).toThrow(/bad\.json: not valid JSON/);
      expect(() => loadContextWindows(join(dir, 'none.yaml'), defaults)).toThrow(/none\.yaml cannot be read/);
      expect(loadContextWindows(undefined, defaults).limitOf('x')).toEqual(defaults);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
