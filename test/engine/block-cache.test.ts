import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { Table } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';
import { importBlockFile } from '../../src/engine/block-cache.ts';
import { ConfigError } from '../../src/errors.ts';
import { createTestProject, REPO_ROOT, type TestProject } from '../support/project.ts';

const execFileAsync = promisify(execFile);
const BIN = join(REPO_ROOT, 'bin/pipekit.js');

/**
 * Block files are compiled once into `.pipekit/cache/blocks` and imported from there with no
 * module hook (src/engine/block-cache.ts, compile-block.ts). These check what a block author
 * relies on: edits are seen at once, relative imports and `import.meta.url` behave as written,
 * 'pipekit' resolves wherever the project lives, and a broken file is named with its line.
 */
let project: TestProject | undefined;
const outside: string[] = [];

afterEach(() => {
  project?.remove();
  project = undefined;
  for (const dir of outside.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** `pipekit validate` in a process of its own (it imports every block): its stdout. */
async function validate(root: string): Promise<string> {
  return (await execFileAsync(process.execPath, [BIN, '--project', root, '--profile', 'test', 'validate'], { cwd: REPO_ROOT })).stdout;
}

const cacheOf = (root: string) => join(root, '.pipekit', 'cache', 'blocks');
const modulesIn = (dir: string) => readdirSync(dir).filter((name) => name.endsWith('.mjs'));

/** Saves a file with an mtime in the past, so the cache may remember it (see block-cache.ts). */
function save(path: string, text: string, secondsAgo = 5): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(path, at, at);
}

describe('the block cache', () => {
  it('bundles relative imports, keeps each file its own import.meta.url, and reuses the module until a file changes', async () => {
    project = createTestProject('block-cache', {});
    const root = project.root;
    save(join(root, 'blocks/helper.ts'), 'export const here: string = import.meta.url;\nexport const factor: number = 2;\n');
    save(join(root, 'blocks/data.txt'), '21');
    const block = join(root, 'blocks/double.ts');
    save(
      block,
      `import { readFileSync } from 'node:fs';
import { loader } from 'pipekit';
import { factor, here } from './helper.ts';
const n: number = Number(readFileSync(new URL('./data.txt', import.meta.url), 'utf8'));
export const value = n * factor;
export const helperUrl = here;
export const dir = import.meta.dirname;
export default loader(async () => undefined);
`,
    );
    const first = await importBlockFile(block, cacheOf(root));
    expect(first.value).toBe(42);
    expect(first.helperUrl).toBe(new URL(`file://${join(root, 'blocks/helper.ts')}`).href);
    expect(first.dir).toBe(join(root, 'blocks'));
    const [compiled] = modulesIn(cacheOf(root));
    expect(compiled).toMatch(/^double\.[0-9a-f]{16}\.[0-9a-f]{16}\.mjs$/);

    expect((await importBlockFile(block, cacheOf(root))).value).toBe(42);
    expect(modulesIn(cacheOf(root))).toEqual([compiled]);

    // An edit to an imported file is an edit to the block: compiled again, the old module gone.
    save(join(root, 'blocks/helper.ts'), 'export const here = import.meta.url;\nexport const factor = 3;\n', 1);
    expect((await importBlockFile(block, cacheOf(root))).value).toBe(63);
    expect(modulesIn(cacheOf(root))).toHaveLength(1);
    expect(modulesIn(cacheOf(root))[0]).not.toBe(compiled);
  });

  it("gives a project outside any package the running pipekit for 'pipekit'", async () => {
    const root = mkdtempSync(join(tmpdir(), 'pipekit-block-cache-'));
    outside.push(root);
    const block = join(root, 'blocks/noop.ts');
    save(block, "import { loader } from 'pipekit';\nexport default loader(async () => undefined);\n");
    const mod = await importBlockFile(block, cacheOf(root));
    expect(typeof mod.default).toBe('object');
  });

  it('compiles again when a package the module points at has moved (a reinstall)', async () => {
    project = createTestProject('block-cache-moved', {});
    const root = project.root;
    for (const version of ['1', '2']) {
      save(join(root, `store/dep-${version}/package.json`), JSON.stringify({ name: 'dep', type: 'module', main: 'index.js' }));
      save(join(root, `store/dep-${version}/index.js`), `export const version = ${version};\n`);
    }
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(join(root, 'store/dep-1'), join(root, 'node_modules/dep'));
    save(join(root, 'uses_dep/pipeline.yaml'), 'blocks:\n  - { uuid: show, kind: loader, file: blocks/show.ts }\n');
    save(
      join(root, 'blocks/show.ts'),
      "import { version } from 'dep';\nimport { loader } from 'pipekit';\nconsole.log('dep', version);\nexport default loader(async () => undefined);\n",
    );
    // Fresh processes, as users run them: this process's module cache would hide the move.
    expect(await validate(root)).toContain('dep 1');

    rmSync(join(root, 'node_modules/dep'));
    rmSync(join(root, 'store/dep-1'), { recursive: true });
    symlinkSync(join(root, 'store/dep-2'), join(root, 'node_modules/dep'));
    expect(await validate(root)).toContain('dep 2');
  });

  it("gives a block pipekit's own Arrow, even when the project's node_modules holds another copy", async () => {
    project = createTestProject('block-cache-arrow', {});
    const root = project.root;
    save(join(root, 'node_modules/apache-arrow/package.json'), JSON.stringify({ name: 'apache-arrow', type: 'module', main: 'index.js' }));
    save(join(root, 'node_modules/apache-arrow/index.js'), "export const tableFromArrays = () => 'the project copy';\n");
    const block = join(root, 'blocks/arrow.ts');
    save(block, "import { tableFromArrays } from 'apache-arrow';\nexport const made = tableFromArrays({ n: Int32Array.from([1, 2]) });\n");
    const mod = await importBlockFile(block, cacheOf(root));
    // One Arrow per process: a table the block builds is made by the engine's own classes.
    expect((mod.made as object).constructor).toBe(Table);
  });

  it('bundles project TypeScript reached through a package.json "imports" alias', async () => {
    project = createTestProject('block-cache-imports', {});
    const root = project.root;
    save(join(root, 'package.json'), JSON.stringify({ name: 'my-project', type: 'module', imports: { '#lib/*': './lib/*' } }));
    save(join(root, 'lib/rates.ts'), 'export const rate: number = 0.5;\n');
    save(join(root, 'p/pipeline.yaml'), 'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\n');
    save(
      join(root, 'blocks/a.ts'),
      "import { rate } from '#lib/rates.ts';\nimport { loader } from 'pipekit';\nconsole.log('half', 10 * rate);\nexport default loader(async () => undefined);\n",
    );
    // In a real process: vitest would load the .ts itself and hide a module Node cannot load.
    expect(await validate(root)).toContain('half 5');
  });

  it('pipekit compile compiles each block file once, then finds them cached; a broken one exits 2 naming its line', async () => {
    project = createTestProject('block-cache-compile', {});
    const root = project.root;
    save(join(root, 'blocks/a.ts'), "import { loader } from 'pipekit';\nexport default loader(async () => undefined);\n");
    // Two pipelines share the block file.
    for (const name of ['p', 'q']) save(join(root, `${name}/pipeline.yaml`), 'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\n');
    const compile = () => execFileAsync(process.execPath, [BIN, '--project', root, 'compile'], { cwd: REPO_ROOT });
    expect((await compile()).stdout).toContain('1 block files compiled, 0 already in the cache');
    expect((await compile()).stdout).toContain('0 block files compiled, 1 already in the cache');

    save(join(root, 'blocks/a.ts'), 'export default (;\n', 1);
    const failed = await compile().catch((e: { code: number; stderr: string }) => e);
    expect(failed).toMatchObject({ code: 2 });
    expect((failed as { stderr: string }).stderr).toContain(`${join(root, 'blocks/a.ts')}:1:17`);
  });

  it('names the file, line and column of a syntax error, in the block or a file it imports', async () => {
    project = createTestProject('block-cache-broken', {});
    const root = project.root;
    save(join(root, 'blocks/helper.ts'), 'export const x = (;\n');
    save(join(root, 'blocks/broken.ts'), "import { x } from './helper.ts';\nexport default x;\n");
    const error = await importBlockFile(join(root, 'blocks/broken.ts'), cacheOf(root)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`${join(root, 'blocks/helper.ts')}:1:19`);
    expect((error as ConfigError).hint).toContain('broken.ts imports it');
  });

  it('falls back to a cache under the temporary folder when the project cannot be written', async () => {
    project = createTestProject('block-cache-readonly', {});
    const root = project.root;
    // A file where the cache folder would be: mkdir fails as on a read-only image (root ignores modes).
    save(join(root, '.pipekit'), 'not a folder');
    const block = join(root, 'blocks/noop.ts');
    save(block, 'export const ok: boolean = true;\n');
    expect((await importBlockFile(block, cacheOf(root))).ok).toBe(true);
  });
});
