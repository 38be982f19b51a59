import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/project.ts';

/**
 * pg asks whether it runs on Cloudflare Workers when it loads; on Node 20, without
 * `navigator`, the question loads Node's whole fetch implementation (src/io/postgres/pg-navigator.ts).
 */
describe("pipekit's pg import", () => {
  it('loads pg without loading fetch, and leaves the globals as Node made them', () => {
    const script = `
      const before = typeof navigator;
      const { default: pg } = await import('./src/io/postgres/pg.ts');
      console.log(JSON.stringify({
        client: typeof pg.Client,
        fetchLoaded: process.moduleLoadList.some((m) => m.includes('undici')),
        navigator: typeof navigator === before,
      }));`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({ client: 'function', fetchLoaded: false, navigator: true });
  });
});
