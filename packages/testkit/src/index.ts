/** Test kit shared by every package's tests: real Redis helpers, barriers, fake provider. */
export { REDIS_URL, testPrefix, cleanupPrefix, deferred, barrier, waitUntil, type Deferred } from './redis';
