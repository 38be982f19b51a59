import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleServer } from '../../src/console/server.ts';
import type { Session } from '../../src/engine/session.ts';
import { BROWSER_SKIP_MESSAGE, type ConsoleInBrowser, chromiumPath, openConsoleInBrowser } from '../support/browser.ts';
import { createTempProject, TINY_PIPELINE, type TempProject } from './project-fixture.ts';

const SHOTS = resolve(import.meta.dirname, '../../test-artifacts/console');
const hasChromium = chromiumPath() !== null;
if (!hasChromium) console.warn(BROWSER_SKIP_MESSAGE);

describe.skipIf(!hasChromium)('console in headless Chromium', () => {
  let project: TempProject;
  let session: Session;
  let server: ConsoleServer;
  let browser: ConsoleInBrowser;
  let page: Page;
  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    project = await createTempProject('console_ui', {
      tiny: { ...TINY_PIPELINE, triggers: [{ name: 'nightly', schedule: '@daily', timezone: 'America/New_York' }] },
    });
    session = await project.open();
    browser = await openConsoleInBrowser(session);
    ({ server, page } = browser);
  });

  afterAll(async () => {
    await browser?.close();
    await session?.close();
    await project?.dispose();
  });

  it('shows the pipeline DAG, runs it with a variable after signing in, and the run finishes', async () => {
    await page.goto(server.url);
    await page.getByRole('heading', { name: 'tiny' }).waitFor();
    expect(await page.locator('svg.dag .node').count()).toBe(3);
    expect(await page.locator('svg.dag path.edge').count()).toBe(2);
    await shot('pipelines');

    await page.getByLabel('Variables (name=value per line)').fill('greeting=from the browser');
    await page.getByRole('button', { name: 'Run tiny' }).click();
    // Anonymous write → the sign-in dialog; the token makes the run start.
    await page.getByLabel('Console token').fill(server.token);
    await shot('login');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/#\/runs\/\d{8}T\d{6}-/);
    await page.locator('#run-header .s-succeeded').waitFor();
    expect(await page.locator('#blocks-table .s-succeeded').count()).toBe(3);
    expect(await page.locator('svg.gantt rect.bar').count()).toBe(3);
    await expect.poll(() => page.locator('#run-header').textContent()).toContain('from the browser');
    await shot('run');
  });

  it('opens a block’s logs and its output preview', async () => {
    await page.getByRole('button', { name: 'Logs of double_them' }).click();
    await page.locator('#panel pre.logs', { hasText: 'doubling 3 rows' }).waitFor();
    await shot('logs');
    await page.getByRole('button', { name: 'Preview double_them' }).click();
    await page.locator('#panel table', { hasText: 'doubled' }).waitFor();
    expect(await page.locator('#panel tbody tr').count()).toBe(3);
    expect(await page.locator('#panel tbody tr').first().textContent()).toContain('from the browser');
    await shot('preview');
  });

  it('starts a backfill, cancels it, then retries it to success', async () => {
    await page.goto(`${server.url}/#/`);
    await page.getByLabel('Start', { exact: true }).fill('2021-01-01');
    await page.getByLabel('End (included)').fill('2021-01-12');
    await page.getByLabel('Variables', { exact: true }).fill('delay_ms=400');
    await page.getByRole('button', { name: 'Start backfill' }).click();
    await page.waitForURL(/#\/backfills\/bf-/);
    const backfillId = decodeURIComponent(page.url().split('/').pop()!);
    await page.locator('#bf-dates .s-running').first().waitFor();
    await shot('backfill-running');
    await page.getByRole('button', { name: 'Cancel backfill' }).click();
    await page.locator('#bf-summary .s-cancelled').first().waitFor();
    const cancelled = await session.store.getBackfill(backfillId);
    expect(cancelled!.status).toBe('cancelled');
    const runsAfterCancel = await session.store.listRuns({ backfillId });
    expect(runsAfterCancel.length).toBeLessThan(12);
    await shot('backfill-cancelled');

    await page.getByRole('button', { name: 'Retry failed and cancelled' }).click();
    await page.locator('#bf-summary .s-succeeded').first().waitFor({ timeout: 40_000 });
    await expect.poll(() => page.locator('#bf-counts').textContent()).toContain('12 succeeded');
    await shot('backfill-retried');
  });

  it('filters runs by status and toggles a trigger', async () => {
    await page.goto(`${server.url}/#/runs`);
    await page.getByLabel('Status').selectOption('cancelled');
    await page.waitForURL(/status=cancelled/);
    // The URL changes before the filtered rows replace the old ones: wait for the re-render.
    const statuses = () => page.locator('#runs-table tbody .status').allTextContents();
    await expect
      .poll(
        async () => {
          const s = await statuses();
          return s.length > 0 && s.every((x) => x.includes('cancelled'));
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    await shot('runs-filtered');

    await page.goto(`${server.url}/#/`);
    await page.getByRole('button', { name: 'Disable nightly' }).click();
    await page.getByRole('button', { name: 'Enable nightly' }).waitFor();
    expect(await session.store.triggerOverrides('tiny')).toMatchObject([{ trigger: 'nightly', enabled: false }]);
    await shot('trigger-disabled');
  });
});
