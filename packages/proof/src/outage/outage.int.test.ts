import { runOutage } from './outage-run';

/**
 * Redis killed and restarted, then frozen past the command timeout, while
 * submissions keep coming (see outage-run.ts): the API answers 201 or 503
 * problem+json with Retry-After within the timeout, accepted tasks complete,
 * refused ones never appear.
 */
describe('Redis outages under load', () => {
  it('answers 503 within the timeout, completes every accepted task, never records a refused one', async () => {
    const { figures, checks } = await runOutage({ outageMs: 2000, freezeMs: 3000, commandTimeoutMs: 1500, marginMs: 2000 });
    expect(figures.accepted201).toBeGreaterThanOrEqual(30);
    expect(checks).toEqual(Object.fromEntries(Object.keys(checks).map((name) => [name, true])));
  }, 240_000);
});
