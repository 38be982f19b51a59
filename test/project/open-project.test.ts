import { existsSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadIoProfile } from '../../src/config/io-config.ts';
import { ConfigError } from '../../src/errors.ts';
import { loadProject } from '../../src/project/load-project.ts';
import { openProject } from '../../src/project/open-project.ts';
import { createTestProject, type TestProject } from '../support/project.ts';

/**
 * A run opens the project from parsed pipeline.yaml and io_config.yaml files kept in
 * `.pipekit/cache` (src/project/open-project.ts, src/config/io-config.ts): what it reads must
 * be what loadProject reads, and an edit must be seen at once.
 */
let project: TestProject | undefined;
afterEach(() => project?.remove());

const BLOCK = "import { loader } from 'pipekit';\nexport default loader(async () => undefined);\n";

/** Writes a file dated in the past, so the cache may keep what was parsed from it. */
function write(p: TestProject, path: string, text: string, secondsAgo = 5): void {
  p.write(path, text);
  const at = new Date(Date.now() - secondsAgo * 1000);
  utimesSync(join(p.root, path), at, at);
}

describe('openProject', () => {
  it('reads what loadProject reads, keeps it, and sees an edit at once', async () => {
    project = createTestProject('open-project', {}, { 'blocks/a.ts': BLOCK, 'blocks/b.ts': BLOCK });
    const p = project;
    write(
      p,
      'p/pipeline.yaml',
      'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\ntriggers:\n  - { name: daily, schedule: "@daily" }\n',
    );
    const first = await openProject(p.root);
    expect(first).toEqual(loadProject(p.root));
    expect(existsSync(join(p.root, '.pipekit/cache/pipelines/p.json'))).toBe(true);
    expect(await openProject(p.root)).toEqual(first);

    // What a process killed while writing the cache left behind goes with the next write.
    write(p, '.pipekit/cache/pipelines/p.json.99999.tmp', '{', 120);
    write(p, 'p/pipeline.yaml', 'blocks:\n  - { uuid: b, kind: loader, file: blocks/b.ts }\n', 1);
    expect((await openProject(p.root)).pipelines.get('p')!.blocks.map((b) => b.uuid)).toEqual(['b']);
    expect(existsSync(join(p.root, '.pipekit/cache/pipelines/p.json.99999.tmp'))).toBe(false);
  });

  it('reports a mistake made after the file was kept, and checks block files every time', async () => {
    project = createTestProject('open-project-errors', {}, { 'blocks/a.ts': BLOCK });
    const p = project;
    write(p, 'p/pipeline.yaml', 'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\n');
    await openProject(p.root);

    rmSync(join(p.root, 'blocks/a.ts'));
    const missing = await openProject(p.root).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as ConfigError).message).toContain('block file blocks/a.ts does not exist');

    write(p, 'p/pipeline.yaml', 'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts, retires: 3 }\n', 1);
    const unknown = await openProject(p.root).catch((e: unknown) => e);
    expect((unknown as ConfigError).message).toContain('unknown key "retires"');
  });

  it('reads only the pipelines asked for: a broken one elsewhere does not stop a run', async () => {
    project = createTestProject('open-project-only', {}, { 'blocks/a.ts': BLOCK });
    write(project, 'good/pipeline.yaml', 'blocks:\n  - { uuid: a, kind: loader, file: blocks/a.ts }\n');
    write(project, 'broken/pipeline.yaml', 'blocks: [');
    expect([...(await openProject(project.root, { only: ['good'] })).pipelines.keys()]).toEqual(['good']);
    await expect(openProject(project.root)).rejects.toThrow(/broken\/pipeline\.yaml: is not valid YAML/);
  });
});

describe('io_config.yaml, kept parsed', () => {
  it('renders templates on every load, sees an edit at once, and keeps the parsed file readable by its owner only', async () => {
    project = createTestProject('io-config-kept', {});
    const p = project;
    write(p, 'io_config.yaml', 'dev:\n  POSTGRES_HOST: "{{ env_var(\'PK_TEST_HOST\') }}"\n  POSTGRES_PORT: 5432\n');
    const file = join(p.root, 'io_config.yaml');
    expect((await loadIoProfile(file, { profile: 'dev', env: { PK_TEST_HOST: 'a' } })).get('POSTGRES_HOST')).toBe('a');
    expect((await loadIoProfile(file, { profile: 'dev', env: { PK_TEST_HOST: 'b' } })).get('POSTGRES_HOST')).toBe('b');
    expect(statSync(join(p.root, '.pipekit/cache/io_config.json')).mode & 0o777).toBe(0o600);

    write(p, 'io_config.yaml', 'dev:\n  POSTGRES_HOST: c\n', 1);
    expect((await loadIoProfile(file, { profile: 'dev' })).get('POSTGRES_HOST')).toBe('c');
  });
});
