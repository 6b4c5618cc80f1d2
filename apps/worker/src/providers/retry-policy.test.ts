import { abortableSleep, isRetryableStatus, parseRetryAfter, retryDelayMs } from './retry-policy';

describe('retry policy', () => {
  it('reads Retry-After as seconds or as an HTTP date', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Wed, 01 Jan 2025 00:00:03 GMT', now)).toBe(3000);
    expect(parseRetryAfter('Tue, 31 Dec 2024 23:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('uses Retry-After when given, else exponential backoff with equal jitter, capped', () => {
    const options = { baseMs: 100, maxMs: 1000 };
    expect(retryDelayMs(1, options, 2500)).toBe(2500);
    expect(retryDelayMs(1, { ...options, retryAfterMaxMs: 2000 }, 2500)).toBe(2000);
    expect(retryDelayMs(1, options, undefined, () => 0)).toBe(50);
    expect(retryDelayMs(3, options, undefined, () => 1)).toBe(400);
    expect(retryDelayMs(10, options, undefined, () => 1)).toBe(1000);
  });

  it('retries rate limits, overload and server errors only', () => {
    expect([429, 500, 502, 503, 504, 408].every(isRetryableStatus)).toBe(true);
    expect([400, 401, 403, 404, 422].some(isRetryableStatus)).toBe(false);
  });

  it('an abort ends a backoff sleep at once', async () => {
    const controller = new AbortController();
    const sleeping = abortableSleep(60_000, controller.signal);
    controller.abort(new Error('cancelled'));
    await expect(sleeping).rejects.toThrow('cancelled');
    // An aborted signal ends it before it starts, with the signal's own reason; an untouched one lets it run out.
    await expect(abortableSleep(60_000, controller.signal)).rejects.toThrow('cancelled');
    await expect(abortableSleep(1, new AbortController().signal)).resolves.toBeUndefined();
  });
});
