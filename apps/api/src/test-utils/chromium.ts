import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's chromium (CI installs it with `apt-get install -y chromium`). */
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = existsSync(CHROMIUM);

/** `describe`, or a loud skip when chromium is missing (only on a bare dev machine: CI installs it). */
export function describeWithChromium(suite: string): jest.Describe {
  if (hasChromium) return describe;
  console.warn(`${suite}: SKIPPED, ${CHROMIUM} is not installed (apt-get install -y chromium)`);
  return describe.skip;
}

/** Headless chromium on a throwaway profile folder, quiet (no network of its own, no first-run work). */
export function launchChromium(profile: string, extra: Parameters<typeof chromium.launchPersistentContext>[1] = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profile, {
    ...extra,
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
