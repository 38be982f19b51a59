import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startConsole, type ConsoleServer } from '../../src/console/server.ts';
import type { Session } from '../../src/engine/session.ts';

/** Where Chromium is, or null (then browser tests skip with `BROWSER_SKIP_MESSAGE`). */
export function chromiumPath(): string | null {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean) as string[];
  return candidates.find((p) => existsSync(p)) ?? null;
}

export const BROWSER_SKIP_MESSAGE =
  'Chromium is not installed: run scripts/ensure-chromium.sh (as root: apt-get install -y chromium) or set CHROMIUM_PATH; browser tests skipped';

/**
 * Headless Chromium with a fresh profile, nothing fetched from the network
 * (never `npx playwright install`). `close()` also removes the profile.
 */
export async function launchBrowser(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const executablePath = chromiumPath();
  if (!executablePath) throw new Error(BROWSER_SKIP_MESSAGE);
  const profile = mkdtempSync(join(tmpdir(), 'pipekit-chromium-'));
  // A persistent context is how Playwright takes --user-data-dir: a fresh folder per test file.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 900 },
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface ConsoleInBrowser {
  readonly server: ConsoleServer;
  readonly page: Page;
  /** Closes the browser, then the console (the session stays the caller's). */
  close(): Promise<void>;
}

/**
 * The console over `session` on a free port, and a page in headless Chromium that may fetch
 * nothing but the console itself (any other request is aborted).
 */
export async function openConsoleInBrowser(session: Session): Promise<ConsoleInBrowser> {
  const server = await startConsole({ session, port: 0, env: {} });
  const browser = await launchBrowser().catch(async (error) => {
    await server.close();
    throw error;
  });
  const page = await browser.context.newPage();
  page.setDefaultTimeout(20_000);
  await page.route('**/*', (route) => (route.request().url().startsWith(server.url) ? route.continue() : route.abort()));
  return {
    server,
    page,
    async close() {
      await browser.close();
      await server.close();
    },
  };
}
