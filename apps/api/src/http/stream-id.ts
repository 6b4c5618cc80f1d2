/**
 * Redis stream ids (`<ms>-<seq>`, each part up to 2^64 - 1) as the SSE ids of
 * session events. Compared as numbers: as text, `999-0` sorts after `1000-0`.
 */

const MAX_SEQ = 18446744073709551615n;

function parts(id: string): [bigint, bigint] {
  if (id === '0') return [0n, 0n];
  const dash = id.indexOf('-');
  if (dash === -1) return [BigInt(id), 0n];
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}

/** Negative when a < b, 0 when equal, positive when a > b. `'0'` is the start. */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const [am, as] = parts(a);
  const [bm, bs] = parts(b);
  if (am !== bm) return am < bm ? -1 : 1;
  if (as !== bs) return as < bs ? -1 : 1;
  return 0;
}

/** The greatest id below `id` (`'0'` for the first possible id): reading after it starts at `id`. */
export function idBefore(id: string): string {
  const [ms, seq] = parts(id);
  if (seq > 0n) return `${ms}-${seq - 1n}`;
  if (ms > 0n) return `${ms - 1n}-${MAX_SEQ}`;
  return '0';
}
