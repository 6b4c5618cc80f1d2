/**
 * Deterministic holds on the fake provider: a test declares which request to
 * hold (by predicate), learns when it arrived, and releases it when it
 * chooses. Installed as the fake's `onRequest` hook.
 */
import { deferred, type Deferred, type FakeProvider, type FakeRequest } from '@baton/testkit';

export interface Hold {
  /** Resolves with the held request once it reached the provider. */
  arrived: Promise<FakeRequest>;
  /** Lets the provider answer it. */
  release(): void;
}

export class Holds {
  private readonly pending: { match: (r: FakeRequest) => boolean; arrived: Deferred<FakeRequest>; released: Deferred<void>; taken: boolean }[] = [];

  constructor(fake: FakeProvider) {
    fake.setOnRequest(async (r) => {
      const hold = this.pending.find((h) => !h.taken && h.match(r));
      if (!hold) return;
      hold.taken = true;
      hold.arrived.resolve(r);
      await hold.released.promise;
    });
  }

  /** Holds the first future request that matches. */
  hold(match: (r: FakeRequest) => boolean): Hold {
    const entry = { match, arrived: deferred<FakeRequest>(), released: deferred(), taken: false };
    this.pending.push(entry);
    return { arrived: entry.arrived.promise, release: () => entry.released.resolve() };
  }

  /** Holds the first request of an exact Idempotency-Key. */
  key(key: string): Hold {
    return this.hold((r) => r.key === key);
  }

  releaseAll(): void {
    for (const h of this.pending) h.released.resolve();
  }
}
