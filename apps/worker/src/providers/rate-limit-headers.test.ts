import { DEFAULT_HOLD_MS, parseGoDuration, parseRateLimitHeaders, parseReset } from './rate-limit-headers';

describe('parseGoDuration', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['1h2m3.5s', 3_723_500],
    ['0.25s', 250],
    ['0', 0],
  ])('%s is %d ms', (text, ms) => expect(parseGoDuration(text)).toBe(ms));

  it.each(['', 'soon', '5', '1s later', 's1'])('"%s" is unreadable', (text) => expect(parseGoDuration(text)).toBeUndefined());
});

describe('parseReset', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads durations, seconds and RFC 3339 times relative to now', () => {
    expect(parseReset('6m0s', now)).toBe(360_000);
    expect(parseReset('2', now)).toBe(2000);
    expect(parseReset('2026-01-01T00:00:03Z', now)).toBe(3000);
    expect(parseReset('2025-12-31T23:59:00Z', now)).toBe(0);
    expect(parseReset('whenever', now)).toBeUndefined();
    expect(parseReset(undefined, now)).toBeUndefined();
  });
});

describe('parseRateLimitHeaders', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');

  it('an OpenAI answer with budget left: no hold, the limit and window learned', () => {
    const signal = parseRateLimitHeaders(
      200,
      {
        'x-ratelimit-limit-requests': '60',
        'x-ratelimit-remaining-requests': '59',
        'x-ratelimit-reset-requests': '1s',
        'x-ratelimit-remaining-tokens': '1000',
        'x-ratelimit-reset-tokens': '6m0s',
      },
      now,
    );
    expect(signal).toEqual({ holdMs: 0, limit: 60, windowMs: 1000 });
  });

  it('remaining 0 holds until that budget resets (the later one when both ran out)', () => {
    expect(parseRateLimitHeaders(200, { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20ms' }, now).holdMs).toBe(20);
    expect(
      parseRateLimitHeaders(
        200,
        {
          'x-ratelimit-remaining-requests': '0',
          'x-ratelimit-reset-requests': '20ms',
          'x-ratelimit-remaining-tokens': '0',
          'x-ratelimit-reset-tokens': '1m0s',
        },
        now,
      ).holdMs,
    ).toBe(60_000);
    expect(parseRateLimitHeaders(200, { 'x-ratelimit-remaining-tokens': '5', 'x-ratelimit-reset-tokens': '1m0s' }, now).holdMs).toBe(0);
  });

  it('a 429 holds for its retry-after (retry-after-ms first), else the reset, else the default', () => {
    expect(parseRateLimitHeaders(429, { 'retry-after': '2', 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '20ms' }, now).holdMs).toBe(
      2000,
    );
    expect(parseRateLimitHeaders(429, { 'retry-after-ms': '150', 'retry-after': '1' }, now).holdMs).toBe(150);
    expect(parseRateLimitHeaders(429, { 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '300ms' }, now).holdMs).toBe(300);
    expect(parseRateLimitHeaders(429, {}, now).holdMs).toBe(DEFAULT_HOLD_MS);
  });

  it('Anthropic: RFC 3339 resets, a 529 holds like a 429', () => {
    const headers = {
      'anthropic-ratelimit-requests-limit': '50',
      'anthropic-ratelimit-requests-remaining': '0',
      'anthropic-ratelimit-requests-reset': '2026-01-01T00:00:01.500Z',
      'anthropic-ratelimit-tokens-remaining': '40000',
      'anthropic-ratelimit-tokens-reset': '2026-01-01T00:00:30Z',
    };
    expect(parseRateLimitHeaders(200, headers, now)).toEqual({ holdMs: 1500, limit: 50, windowMs: 1500 });
    expect(parseRateLimitHeaders(529, { 'retry-after': '3' }, now).holdMs).toBe(3000);
  });

  it('other errors and unreadable headers hold nothing', () => {
    expect(parseRateLimitHeaders(500, { 'retry-after': '5' }, now)).toEqual({ holdMs: 0, limit: 0, windowMs: 0 });
    expect(parseRateLimitHeaders(200, { 'x-ratelimit-remaining-requests': 'none', 'x-ratelimit-reset-requests': 'later' }, now)).toEqual({
      holdMs: 0,
      limit: 0,
      windowMs: 0,
    });
  });
});
