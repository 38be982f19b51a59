import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleServer } from '../../src/console/server.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { BROWSER_SKIP_MESSAGE, type ConsoleInBrowser, chromiumPath, openConsoleInBrowser } from '../support/browser.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

/**
 * The console at a laptop's width (1366 px) and a narrow window's (700 px):
 * assertions on layout boxes — nothing sticks out of its card or the window,
 * nothing is clipped — plus what the preview shows. Screenshots land in
 * test-artifacts/console/ for a human to look at.
 */
const SHOTS = resolve(import.meta.dirname, '../../test-artifacts/console');
const hasChromium = chromiumPath() !== null;
if (!hasChromium) console.warn(BROWSER_SKIP_MESSAGE);

const LONG_ERROR =
  `could not fetch https://storage.example.invalid/${'very-long-object-name-'.repeat(30)}.csv.gz: ` +
  'the server answered 503 Service Unavailable\nsecond line of the error\nthird line';

interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

const box = async (locator: Locator): Promise<Box> => {
  const b = await locator.boundingBox();
  if (!b) throw new Error(`${locator} has no layout box (hidden?)`);
  return b;
};
const right = (b: Box) => b.x + b.width;

describe.skipIf(!hasChromium)('console layout at 1366 and 700 px', () => {
  let db: TestDatabase;
  let project: TestProject;
  let session: Session;
  let server: ConsoleServer;
  let browser: ConsoleInBrowser;
  let page: Page;
  let runId: string;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    db = await createTestDatabase('console_layout');
    project = createTestProject('console-layout', db.profileValues, {
      // 1,234 rows × 30 columns with mixed-case names, a timestamp and a date.
      'blocks/make_wide.ts': `import { DateDay, TimestampMillisecond, tableFromArrays, vectorFromArray } from 'apache-arrow';
import { loader } from 'pipekit';
export default loader(async (ctx) => {
  if (String(ctx.variables.source).startsWith('https://')) throw new Error('offline: cannot fetch ' + ctx.variables.source);
  const n = 1234;
  const start = Date.UTC(2021, 0, 1);
  const columns: Record<string, unknown> = {
    VendorID: Int32Array.from({ length: n }, (_, i) => (i % 2) + 1),
    tpep_pickup_datetime: vectorFromArray(Array.from({ length: n }, (_, i) => new Date(start + i * 60_000)), new TimestampMillisecond()),
    pickup_day: vectorFromArray(Array.from({ length: n }, (_, i) => new Date(start + Math.floor(i / 100) * 86_400_000)), new DateDay()),
  };
  for (let c = 0; c < 27; c++) columns['Some_Measure_' + c] = Float64Array.from({ length: n }, (_, i) => i * 1.5 + c);
  return tableFromArrays(columns as never);
});`,
      'blocks/fail_loudly.ts': `import { transformer, NonRetriableError, type Table } from 'pipekit';
export default transformer(async (t: Table) => { throw new NonRetriableError(${JSON.stringify(LONG_ERROR)}); });`,
      'wide/pipeline.yaml': `blocks:
  - { uuid: make_wide, kind: loader, file: blocks/make_wide.ts }
  - { uuid: a_block_with_a_rather_long_name_indeed, kind: transformer, file: blocks/fail_loudly.ts, upstream: [make_wide] }
variables:
  source: https://example.invalid/yellow_tripdata_2021-01.csv.gz
profiles:
  test: { variables: { source: "{{ project_root }}/samples/yellow.csv.gz" } }
retry: { attempts: 1 }
`,
    });
    session = await openSession({ projectRoot: project.root, profile: 'test' });
    browser = await openConsoleInBrowser(session);
    ({ server, page } = browser);
  });

  afterAll(async () => {
    await browser?.close();
    await session?.close();
    await db?.drop();
    project?.remove();
  });

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  /** Nothing makes the page scroll sideways, and the header stays inside the window. */
  async function expectNoPageOverflow(width: number) {
    const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
    expect(scrollWidth).toBeLessThanOrEqual(width);
    expect(right(await box(page.locator('header.top')))).toBeLessThanOrEqual(width + 0.5);
  }

  it('fills the Run form with the active profile’s variables, so a run from the console works offline', async () => {
    await page.setViewportSize({ width: 1366, height: 900 });
    await page.goto(server.url);
    const variables = page.getByLabel('Variables (name=value per line)');
    await expect.poll(() => variables.inputValue()).toContain('source={{ project_root }}/samples/yellow.csv.gz');
    expect(await variables.inputValue()).not.toContain('https://');
    await page.getByRole('button', { name: 'Run wide' }).click();
    await page.getByLabel('Console token').fill(server.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/#\/runs\/\d{8}T\d{6}-/);
    runId = decodeURIComponent(page.url().split('/').pop()!);
    await page.locator('#run-header .s-failed').waitFor();
    // The loader ran on the local file, not the internet URL; the failure is the long error.
    const blocks = await session.store.getBlockRuns(runId);
    expect(blocks.map((b) => [b.block, b.status])).toEqual([
      ['make_wide', 'succeeded'],
      ['a_block_with_a_rather_long_name_indeed', 'failed'],
    ]);
  });

  for (const width of [1366, 700]) {
    it(`keeps the run page inside the window at ${width} px: blocks table, long error, timeline, buttons`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${server.url}/#/runs/${encodeURIComponent(runId)}`);
      await page.locator('#blocks-table .s-failed').waitFor();
      await shot(`run-${width}`); // before the checks, so a failure has its picture
      await expectNoPageOverflow(width);

      const card = await box(page.locator('#blocks-table').locator('xpath=..'));
      const tableBox = await box(page.locator('#blocks-table'));
      expect(right(tableBox)).toBeLessThanOrEqual(right(card) + 0.5);
      expect(right(card)).toBeLessThanOrEqual(width);
      const error = page.locator('#blocks-table .error-cell').nth(1);
      expect(right(await box(error))).toBeLessThanOrEqual(right(card) + 0.5);
      expect(await error.textContent()).toContain('could not fetch https://storage.example.invalid/');

      // Every button is whole and inside the card and the window.
      const buttons = page.locator('#blocks-table button');
      expect(await buttons.count()).toBe(3);
      for (const b of await buttons.all()) {
        const bb = await box(b);
        expect(bb.x).toBeGreaterThanOrEqual(card.x - 0.5);
        expect(right(bb)).toBeLessThanOrEqual(Math.min(right(card), width) + 0.5);
        expect(await b.evaluate((node) => node.scrollWidth <= node.clientWidth + 1)).toBe(true);
      }

      // The timeline is drawn at the card's width: no clipping, no sideways scrolling.
      const timeline = page.locator('#timeline');
      const svg = await box(timeline.locator('svg.gantt'));
      expect(right(svg)).toBeLessThanOrEqual(right(await box(timeline)) + 0.5);
      expect(await timeline.evaluate((node) => node.scrollWidth <= node.clientWidth)).toBe(true);
      for (const label of await timeline.locator('text').all()) {
        const lb = await box(label);
        expect(right(lb)).toBeLessThanOrEqual(right(svg) + 1);
      }

      // Row counts read like the CLI's.
      expect(await page.locator('#blocks-table td.num').first().textContent()).toBe('1,234');
    });

    it(`previews a wide output at ${width} px: ISO timestamps, column names as written, sideways scrolling inside the panel`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${server.url}/#/runs/${encodeURIComponent(runId)}`);
      await page.getByRole('button', { name: 'Preview make_wide' }).click();
      const scroller = page.locator('#preview-scroll');
      await scroller.waitFor();
      await expect.poll(() => page.locator('#preview-summary').textContent()).toContain('1,234 rows');

      const headers = page.locator('#preview-scroll th');
      expect(await headers.count()).toBe(30);
      expect(await headers.first().innerText()).toMatch(/^VendorID\b/);
      expect(await headers.nth(1).evaluate((th) => getComputedStyle(th).textTransform)).toBe('none');
      const firstRow = page.locator('#preview-scroll tbody tr').first().locator('td');
      expect(await firstRow.nth(1).textContent()).toBe('2021-01-01T00:00:00.000Z');
      expect(await firstRow.nth(2).textContent()).toBe('2021-01-01T00:00:00.000Z');

      // The panel holds the table: it scrolls inside the panel, and its last column can be reached.
      await expectNoPageOverflow(width);
      const panel = await box(page.locator('#panel'));
      expect(right(await box(scroller))).toBeLessThanOrEqual(right(panel) + 0.5);
      expect(await scroller.evaluate((node) => node.scrollWidth > node.clientWidth)).toBe(true);
      await scroller.evaluate((node) => node.scrollTo({ left: node.scrollWidth }));
      const last = await box(headers.last());
      expect(right(last)).toBeLessThanOrEqual(right(await box(scroller)) + 1);
      expect(last.x).toBeGreaterThanOrEqual((await box(scroller)).x - 1);
      await shot(`preview-${width}`);
    });

    it(`lists runs and pipelines inside the window at ${width} px`, async () => {
      await page.setViewportSize({ width, height: 900 });
      await page.goto(`${server.url}/#/runs`);
      await page.locator('#runs-table tbody .s-failed').waitFor();
      await expectNoPageOverflow(width);
      expect(right(await box(page.locator('#runs-table')))).toBeLessThanOrEqual(width);
      await shot(`runs-${width}`);
      await page.goto(`${server.url}/#/`);
      await page.getByRole('button', { name: 'Run wide' }).waitFor();
      await expectNoPageOverflow(width);
      for (const b of await page.locator('main button').all()) expect(right(await box(b))).toBeLessThanOrEqual(width);
      await shot(`pipelines-${width}`);
    });
  }
});
