import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleServer } from '../../src/console/server.ts';
import { openSession, type Session } from '../../src/engine/session.ts';
import { BROWSER_SKIP_MESSAGE, type ConsoleInBrowser, chromiumPath, openConsoleInBrowser } from '../support/browser.ts';
import { runWithBlockRunning, spawnPipekit } from '../support/cli-process.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

/**
 * A CLI run killed with SIGKILL leaves its record `running`. The console
 * shows what the run store reconciles it to (failed: its process is gone),
 * and its Cancel button, pressed before that, records the cancel instead of
 * answering 409 "stop it there".
 */
const hasChromium = chromiumPath() !== null;
if (!hasChromium) console.warn(BROWSER_SKIP_MESSAGE);

describe.skipIf(!hasChromium)('a killed run in the console', () => {
  let db: TestDatabase;
  let project: TestProject;
  let session: Session;
  let server: ConsoleServer;
  let browser: ConsoleInBrowser;
  let page: Page;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('console_killed');
    project = createTestProject('console-killed', db.profileValues, {
      'blocks/hold.ts': `import { existsSync } from 'node:fs';
import { loader } from 'pipekit';
export default loader(async (ctx) => {
  while (existsSync(String(ctx.variables.hold_file)) && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 25));
  return { rows: 1 };
});`,
      'held/pipeline.yaml':
        'blocks:\n  - { uuid: hold, kind: loader, file: blocks/hold.ts }\nvariables:\n  hold_file: "{{ project_root }}/hold"\n',
    });
    writeFileSync(join(project.root, 'hold'), '');
    session = await openSession({ projectRoot: project.root, profile: 'test' });
    browser = await openConsoleInBrowser(session);
    ({ server, page } = browser);
    await page.setViewportSize({ width: 1366, height: 900 });
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    rmSync(join(project.root, 'hold'), { force: true });
    await browser?.close();
    await session?.close();
    await db?.drop();
    project?.remove();
  });

  /** A CLI run holding in its block, killed without a chance to record anything. */
  async function killedRun(date: string) {
    const cli = spawnPipekit(
      ['run', 'held', '--execution-date', date, '--quiet'],
      { PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test' },
      children,
    );
    const run = await runWithBlockRunning(session.store, 'held', date, 'hold');
    return { run, kill: async () => (cli.child.kill('SIGKILL'), await cli.done) };
  }

  it('Cancel on a run whose process died records it cancelled (no 409)', async () => {
    const { run, kill } = await killedRun('2021-01-01');
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(run.id)}`);
    const cancel = page.getByRole('button', { name: 'Cancel run' });
    await cancel.waitFor();
    await kill();
    await cancel.click();
    await page.getByLabel('Console token').fill(server.token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('#run-header .s-cancelled').waitFor();
    expect(await page.locator('#toast').textContent()).toBe('run cancelled');
    expect(await cancel.count()).toBe(0);
    expect((await session.store.getRun(run.id))!.status).toBe('cancelled');
  });

  it('a run whose process died shows as failed, with the reason, and no Cancel button', async () => {
    const { run, kill } = await killedRun('2021-01-02');
    const { signal } = await kill();
    expect(signal).toBe('SIGKILL');
    await page.goto(`${server.url}/#/runs/${encodeURIComponent(run.id)}`);
    // The page polls while a run looks active; the run store reconciles it within seconds.
    await page.locator('#run-header .s-failed').waitFor({ timeout: 30_000 });
    await expect.poll(() => page.locator('#run-header').textContent()).toMatch(/its process \(pid \d+ on .+\) is gone/);
    expect(await page.getByRole('button', { name: 'Cancel run' }).count()).toBe(0);
    await page.goto(`${server.url}/#/runs`);
    await expect.poll(() => page.locator('#runs-table tbody tr', { hasText: run.id }).locator('.status').textContent()).toContain('failed');
  });
});
