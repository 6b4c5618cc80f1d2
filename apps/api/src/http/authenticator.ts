import { createHash, timingSafeEqual } from 'node:crypto';
import type { ApiKey } from '../env';

/** The tenant of an API running open (API_AUTH=none, no API_KEYS). */
export const DEFAULT_TENANT = 'default';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/**
 * Resolves `Authorization: Bearer <secret>` to a tenant. Secrets are compared
 * as SHA-256 digests with `timingSafeEqual` (equal lengths, constant time),
 * and every key is compared on every call so the timing says nothing about
 * which key, or how much of one, matched.
 */
export class Authenticator {
  private readonly keys: { tenant: string; hash: Buffer }[];

  constructor(keys: readonly ApiKey[]) {
    this.keys = keys.map((k) => ({ tenant: k.tenant, hash: digest(k.secret) }));
  }

  /** True when no keys are configured (API_AUTH=none): everything is the default tenant. */
  get open(): boolean {
    return this.keys.length === 0;
  }

  /** The tenant for an Authorization header value; null when it is missing or wrong. */
  tenantOf(authorization: string | undefined): string | null {
    if (this.open) return DEFAULT_TENANT;
    const match = /^Bearer ([^\s]+)\s*$/i.exec(authorization ?? '');
    if (!match) return null;
    const presented = digest(match[1]!);
    let tenant: string | null = null;
    for (const key of this.keys) {
      if (timingSafeEqual(key.hash, presented)) tenant = key.tenant;
    }
    return tenant;
  }
}

/** Basic-auth check for the dashboard, with the same constant-time comparison. */
export function basicAuthMatches(authorization: string | undefined, user: string, password: string): boolean {
  const match = /^Basic ([A-Za-z0-9+/=]+)\s*$/i.exec(authorization ?? '');
  if (!match) return false;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const expected = digest(`${user}:${password}`);
  return timingSafeEqual(digest(decoded), expected);
}

/** `Authorization: Bearer <token>` check for a single token (METRICS_TOKEN), in constant time. */
export function bearerMatches(authorization: string | undefined, token: string): boolean {
  const match = /^Bearer ([^\s]+)\s*$/i.exec(authorization ?? '');
  return timingSafeEqual(digest(match?.[1] ?? ''), digest(token));
}
