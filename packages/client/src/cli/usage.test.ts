import { parseCommand, UsageError } from './args';
import { usageTable } from './run-cli';

describe('baton usage', () => {
  it('defaults to the last 7 UTC days through today; --from/--to must be days', () => {
    const today = new Date().toISOString().slice(0, 10);
    const cmd = parseCommand(['usage']);
    expect(cmd).toMatchObject({ name: 'usage', to: today, json: false });
    expect(Date.parse(today) - Date.parse((cmd as { from: string }).from)).toBe(6 * 86_400_000);
    expect(parseCommand(['usage', '--from', '2026-01-01', '--to', '2026-01-31', '--json'])).toEqual({
      name: 'usage',
      from: '2026-01-01',
      to: '2026-01-31',
      json: true,
    });
    expect(() => parseCommand(['usage', '--from', 'yesterday'])).toThrow(UsageError);
  });

  it('prints a line a day and the total; unpriced turns are named, never costed', () => {
    const usage = { inputTokens: 100, outputTokens: 20, cachedTokens: 40, turns: 2, unpricedTurns: 1 };
    const text = usageTable({ from: '2026-01-01', to: '2026-01-02', days: [{ day: '2026-01-01', usage, cost: 0.0012 }], total: { usage, cost: 0.0012 } });
    expect(text.split('\n')[1]).toMatch(/^2026-01-01\s+2\s+100\s+40\s+20\s+\$0\.0012 \(\+1 unpriced turns\)$/);
    expect(text.split('\n')[2]).toMatch(/^total/);
    expect(usageTable({ from: 'a', to: 'b', days: [], total: { usage: { ...usage, unpricedTurns: 2 }, cost: null } })).toContain('unpriced');
  });
});
