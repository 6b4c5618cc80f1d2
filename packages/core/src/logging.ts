import type { LoggerOptions } from 'pino';

/** What replaces a secret in a log line. */
export const REDACTED = '[redacted]';

/**
 * Fields that hold secrets wherever they appear in a log object (one level
 * deep, and in request/response headers): pino drops their values.
 */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'apiKey',
  '*.apiKey',
  'apiKeys',
  '*.apiKeys',
  'secret',
  '*.secret',
  'password',
  '*.password',
  'API_KEYS',
  '*.API_KEYS',
  'LLM_API_KEY',
  '*.LLM_API_KEY',
  'DASHBOARD_PASSWORD',
  '*.DASHBOARD_PASSWORD',
  'METRICS_TOKEN',
  '*.METRICS_TOKEN',
];

/** `scheme://user:password@` (the password part), and `Bearer <token>` / `Basic <credentials>`. */
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:@/"\\]*:)[^\s@/"\\]+@/gi;
const BEARER = /\b(bearer)\s+[A-Za-z0-9._~+/=-]{8,}/gi;
const BASIC = /\b(Basic)\s+[A-Za-z0-9+/]{8,}={0,2}/g;

/**
 * Removes passwords inside URLs (e.g. `redis://:password@host`) and bearer or
 * basic credentials from any text. Applied to every finished log line, so a
 * secret quoted in an error message or a stack is caught as well as a field.
 */
export function scrubSecrets(text: string): string {
  return text.replace(URL_PASSWORD, `$1${REDACTED}@`).replace(BEARER, `$1 ${REDACTED}`).replace(BASIC, `$1 ${REDACTED}`);
}

/** pino options for Baton's processes: named, levelled, with secrets redacted. */
export function loggerOptions(name: string, level: string): LoggerOptions {
  return {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: REDACTED },
    hooks: { streamWrite: scrubSecrets },
  };
}
