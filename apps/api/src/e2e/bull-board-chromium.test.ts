import { TASK_QUEUE } from '@baton/core';
import { cleanupPrefix, REDIS_URL, testPrefix } from '@baton/testkit';
import type { FastifyInstance } from 'fastify';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext } from 'playwright-core';
import { buildApp } from '../app';
import { parseEnv } from '../env';

import { describeWithChromium as chromiumDescribe, launchChromium } from '../test-utils/chromium';

/**
 * Bull Board (`/admin/queues`) rendered by a real browser: Debian's chromium,
 * headless, driven by playwright-core, against the real app listening on a
 * port. Bull Board is a client-side React app, so only a browser proves that
 * its page, assets and JSON API work together behind basic auth and the
 * relaxed CSP. CI installs chromium with `apt-get install -y chromium`.
 */
const describeWithChromium = chromiumDescribe('bull-board-chromium');

const USER = 'admin';
const PASSWORD = 'dashboard-pass-1';

describeWithChromium('Bull Board in headless Chromium', () => {
  let prefix: string;
  let app: FastifyInstance;
  let baseUrl: string;
  let profile: string;
  let browser: BrowserContext;

  beforeAll(async () => {
    prefix = testPrefix('board');
    app = await buildApp(parseEnv({ REDIS_URL, BATON_PREFIX: prefix, API_AUTH: 'none', DASHBOARD_PASSWORD: PASSWORD, LOG_LEVEL: 'silent' }));
    baseUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    // A root task with no worker running: its job waits in the queue, so the board has something to show.
    await app.engine.submit({ sessionId: 'board-s1', prompt: 'shown on the board', taskId: 'board-task-1' });
    profile = await mkdtemp(join(tmpdir(), 'baton-chromium-'));
    browser = await launchChromium(profile, { httpCredentials: { username: USER, password: PASSWORD } });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    if (profile) await rm(profile, { recursive: true, force: true });
    if (prefix) await cleanupPrefix(prefix);
  });

  it(`lists Baton's "${TASK_QUEUE}" queue on /admin/queues, and the waiting job on the queue page`, async () => {
    const page = await browser.newPage();
    const failed: string[] = [];
    page.on('response', (r) => {
      if (r.status() >= 400) failed.push(`${r.status()} ${r.url()}`);
    });

    const response = await page.goto(`${baseUrl}/admin/queues`);
    expect(response?.status()).toBe(200);
    await page.getByText('Baton', { exact: true }).first().waitFor(); // boardTitle
    const queueLink = page.locator(`a[href*="/queue/${TASK_QUEUE}"]`).first();
    await queueLink.waitFor();
    expect((await queueLink.textContent())?.trim()).toContain(TASK_QUEUE);

    await queueLink.click();
    await page.waitForURL(new RegExp(`/admin/queues/queue/${TASK_QUEUE}`));
    await page
      .getByRole('link', { name: /waiting/i })
      .first()
      .click();
    await page.getByText('board-task-1').first().waitFor();
    expect(failed).toEqual([]);
  });

  it('refuses the dashboard without credentials (401 with a Basic challenge)', async () => {
    const res = await fetch(`${baseUrl}/admin/queues`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});
