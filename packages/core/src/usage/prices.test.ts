import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPrices, parsePricesFile, PriceTable } from './prices';

describe('PriceTable', () => {
  const table = new PriceTable({
    'gpt-4o-mini': { input: 0.15, output: 0.6, cached: 0.075 },
    'gpt-4o*': { input: 2.5, output: 10 },
    'gpt-4o-mini-*': { input: 1, output: 1 },
    'claude-sonnet-4-5*': { input: 3, output: 15, cached: 0.3, cacheWrite: 3.75 },
  });

  it('prices uncached input, cached input, cache writes and output separately (USD per million tokens)', () => {
    // 1M input of which 400k cached: 600k * 0.15 + 400k * 0.075 + 100k output * 0.6
    expect(table.costOf('gpt-4o-mini', { input: 1_000_000, cached: 400_000, output: 100_000 })).toBeCloseTo(0.09 + 0.03 + 0.06, 10);
    expect(table.costOf('claude-sonnet-4-5-20250929', { input: 2000, cached: 1000, cacheWrite: 500, output: 100 })).toBeCloseTo(
      (500 * 3 + 1000 * 0.3 + 500 * 3.75 + 100 * 15) / 1e6,
      12,
    );
  });

  it('an exact name wins over patterns, and the longest pattern over shorter ones; cached defaults to the input price', () => {
    expect(table.priceOf('gpt-4o-mini')).toEqual({ input: 0.15, output: 0.6, cached: 0.075 });
    expect(table.priceOf('gpt-4o-mini-2024-07-18')).toEqual({ input: 1, output: 1 });
    expect(table.priceOf('gpt-4o-2024-08-06')).toEqual({ input: 2.5, output: 10 });
    expect(table.costOf('gpt-4o', { input: 1_000_000, cached: 1_000_000, output: 0 })).toBeCloseTo(2.5, 10);
  });

  it('an unknown model costs null, never a guess', () => {
    expect(table.costOf('llama-3', { input: 10, cached: 0, output: 10 })).toBeNull();
    expect(new PriceTable().costOf('gpt-4o-mini', { input: 1, cached: 0, output: 1 })).toBeNull();
  });
});

describe('PRICES_FILE', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-prices-'));

  it('reads YAML and JSON, flat or under models:', () => {
    const yaml = join(dir, 'prices.yaml');
    writeFileSync(yaml, 'models:\n  gpt-4o-mini: { input: 0.15, output: 0.6 }\n  "claude-*": { input: 3, output: 15 }\n');
    expect(loadPrices(yaml).size).toBe(2);
    expect(parsePricesFile('{"m": {"input": 1, "output": 2}}', 'p.json').priceOf('m')).toEqual({ input: 1, output: 2 });
    expect(loadPrices(undefined).size).toBe(0);
  });

  it('explains what is wrong and what a valid entry looks like', () => {
    expect(() => parsePricesFile('m: { input: -1, output: 2, extra: 1 }', 'p.yaml')).toThrow(
      /PRICES_FILE p\.yaml is invalid \(USD per million tokens per model, e\.g\. .*\):\n[\s\S]*extra[\s\S]*at m\.input/,
    );
    expect(() => parsePricesFile('{not json', 'p.json')).toThrow(/^PRICES_FILE p\.json: not valid JSON/);
    expect(() => loadPrices(join(dir, 'missing.yaml'))).toThrow(/^PRICES_FILE .*missing\.yaml cannot be read/);
    expect(() => parsePricesFile('"a*b": { input: 1, output: 1 }', 'p.yaml')).toThrow(/one \* at the end only/);
  });
});
