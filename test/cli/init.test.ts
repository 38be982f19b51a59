import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.ts';
import { loadProject } from '../../src/project/load-project.ts';
import { dependencySpec, scaffoldProject } from '../../src/project/scaffold.ts';
import { freePort } from '../../src/services/free-port.ts';
import { BUILT_IMAGE, deployStack } from '../infra/harness.ts';
import { REPO_ROOT } from '../support/project.ts';

const scratch = mkdtempSync(join(tmpdir(), 'pipekit-init-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { cwd, env: { ...process.env, NO_COLOR: '1', ...env }, timeout: 180_000, maxBuffer: 20 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('pipekit init', () => {
  it('scaffolds io_config.yaml with the three profiles, the example pipeline, package.json and a Pulumi program', async () => {
    const result = await scaffoldProject('My Pipelines', { cwd: scratch, pipekit: '^0.1.0' });
    expect(result.name).toBe('my-pipelines');
    expect(result.files).toEqual([
      '.gitignore',
      'Pulumi.yaml',
      'blocks/export_titanic_clean.ts',
      'blocks/fill_in_missing_values.ts',
      'blocks/load_titanic.ts',
      'data/titanic.csv',
      'example/pipeline.yaml',
      'infra/index.ts',
      'io_config.yaml',
      'package.json',
      'tsconfig.json',
    ]);
    const pkg = JSON.parse(readFileSync(join(result.root, 'package.json'), 'utf8'));
    expect(pkg).toMatchObject({ name: 'my-pipelines', type: 'module', dependencies: { pipekit: '^0.1.0' } });
    // pulumi up's tools, at the ranges pipekit is tested with.
    const ours = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8'));
    expect(pkg.devDependencies).toEqual({
      '@pulumi/pulumi': ours.devDependencies['@pulumi/pulumi'],
      '@pulumi/gcp': ours.devDependencies['@pulumi/gcp'],
      '@pulumi/random': ours.devDependencies['@pulumi/random'],
      '@pulumi/command': ours.devDependencies['@pulumi/command'],
      tsx: ours.dependencies.tsx,
    });
    // The profiles are the repository's own, key for key: what infra/ deploys and the laptop runs.
    const ioConfig = parse(readFileSync(join(result.root, 'io_config.yaml'), 'utf8'));
    const repoConfig = parse(readFileSync(join(REPO_ROOT, 'pipelines', 'io_config.yaml'), 'utf8'));
    for (const profile of ['local', 'dev', 'cloud']) expect(Object.keys(ioConfig[profile])).toEqual(Object.keys(repoConfig[profile]));
    const project = loadProject(result.root);
    expect([...project.pipelines.keys()]).toEqual(['example']);
    expect(parse(readFileSync(join(result.root, 'Pulumi.yaml'), 'utf8'))).toMatchObject({ name: 'my-pipelines', main: 'infra/' });
    expect(readFileSync(join(result.root, 'infra', 'index.ts'), 'utf8')).toContain("from 'pipekit/infra'");
  });

  it('never writes into a folder that has files', async () => {
    const root = join(scratch, 'taken');
    mkdirSync(root);
    writeFileSync(join(root, 'notes.txt'), 'mine');
    await expect(scaffoldProject(root)).rejects.toThrow(ConfigError);
    await expect(scaffoldProject(root)).rejects.toThrow(/is not empty/);
    expect(readFileSync(join(root, 'notes.txt'), 'utf8')).toBe('mine');
  });

  it('depends on pipekit the way this pipekit was installed', () => {
    const installer = join(scratch, 'installer');
    mkdirSync(join(installer, 'node_modules', 'pipekit'), { recursive: true });
    const installed = { root: join(installer, 'node_modules', 'pipekit'), version: '0.1.0', ranges: {} };
    writeFileSync(join(installer, 'package.json'), JSON.stringify({ dependencies: { pipekit: 'file:pipekit-0.1.0.tgz' } }));
    expect(dependencySpec(installed)).toBe(`file:${join(installer, 'pipekit-0.1.0.tgz')}`);
    writeFileSync(join(installer, 'package.json'), JSON.stringify({ dependencies: { pipekit: '^0.1.0' } }));
    expect(dependencySpec(installed)).toBe('^0.1.0');
    expect(dependencySpec({ root: REPO_ROOT, version: '0.1.0', ranges: {} })).toBe(`file:${REPO_ROOT}`);
  });

  it("its Pulumi program deploys that project through pipekit's components", async () => {
    const { root } = await scaffoldProject(join(scratch, 'deployed'), { pipekit: `file:${REPO_ROOT}` });
    // What `npm install` makes of a linked dependency.
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(REPO_ROOT, join(root, 'node_modules', 'pipekit'), 'dir');
    const stack = await deployStack('', {}, join(root, 'infra', 'index.ts'));
    const jobs = stack.ofType('gcp:cloudrunv2/job:Job');
    expect(jobs.map((j) => j.inputs.name)).toEqual(['pipekit-example']);
    expect(jobs[0]!.inputs.template.template.containers[0].args).toEqual(['run', 'example']);
    // The same kit as this repository's program: database, lake bucket, console, functions.
    expect(stack.ofType('gcp:sql/databaseInstance:DatabaseInstance')).toHaveLength(1);
    expect(stack.ofType('gcp:cloudrunv2/service:Service').length).toBeGreaterThan(0);
    expect(Object.keys(stack.outputs)).toEqual(expect.arrayContaining(['consoleUrl', 'jobNames', 'lakeBucket']));
    expect(stack.outputs.jobNames).toEqual({ example: 'pipekit-example' });
  });
});

/**
 * The first hour, end to end and offline: `npm pack`, the packed pipekit runs
 * `init`, the project's `npm install --offline`, `npx pipekit run example`.
 * The npm cache here holds pipekit's dependency tarballs but not all their
 * registry metadata, so `npm install <tarball> --offline` cannot resolve
 * them: the packed pipekit gets this checkout's node_modules instead, and the
 * project links it (`file:`), which is what `init` writes for an unpublished
 * pipekit.
 */
describe('from npm pack to a run, offline', () => {
  const work = join(scratch, 'e2e');
  let projectDir = '';
  let port = 0;

  afterAll(async () => {
    if (projectDir)
      await run(process.execPath, ['node_modules/pipekit/bin/pipekit.js', 'dev', 'stop'], projectDir, { PIPEKIT_PG_PORT: String(port) });
  });

  it('packs what an installed pipekit needs and nothing else', async () => {
    mkdirSync(work, { recursive: true });
    // --ignore-scripts: `prepare` would compile dist/ again; `npm test` has just built it.
    const packed = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], REPO_ROOT);
    expect(packed.code).toBe(0);
    const [info] = JSON.parse(packed.stdout);
    const files = info.files.map((f: { path: string }) => f.path) as string[];
    if (existsSync(join(REPO_ROOT, 'dist', '.build-stamp')))
      expect(files).toEqual(expect.arrayContaining(['dist/.build-stamp', 'dist/src/cli/main.js', 'dist/src/console/public/index.html']));
    for (const needed of [
      'bin/pipekit.js',
      'bin/launch.js',
      'src/index.ts',
      'src/cli/main.ts',
      'src/console/public/index.html',
      'infra/project.ts',
      'templates/project/gitignore',
      'templates/project/infra/index.ts',
      'functions/index.ts',
      // What pulumi up's image build uploads from an installed pipekit.
      '.dockerignore',
      'cloudbuild.yaml',
      'tsconfig.build.json',
      'scripts/build.mjs',
      'infra/build/build-image.ts',
    ]) {
      expect(files).toContain(needed);
    }
    const tops = new Set(files.map((f) => f.split('/')[0]));
    expect(files.filter((f) => f.startsWith('scripts/'))).toEqual(['scripts/build.mjs']);
    for (const unwanted of ['test', 'pipelines', 'docs', 'node_modules', '.pipekit', 'test-artifacts', 'bench-results'])
      expect(tops).not.toContain(unwanted);
    const tar = await run('tar', ['xzf', info.filename, '-C', work], work);
    expect(tar.code).toBe(0);
    symlinkSync(join(REPO_ROOT, 'node_modules'), join(work, 'package', 'node_modules'), 'dir');
  });

  it('npx pipekit init my-pipelines && npm install --offline && npx pipekit run example', async () => {
    // The packed pipekit installed where `npx pipekit` finds it (a folder beside it: a linked
    // folder inside the installing project would have its dependencies resolved from the registry).
    const tool = join(work, 'tool');
    mkdirSync(tool);
    writeFileSync(join(tool, 'package.json'), JSON.stringify({ name: 'tool', private: true }));
    const installed = await run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '../package'], tool);
    expect(installed.code).toBe(0);
    const init = await run('npx', ['--offline', 'pipekit', 'init', '../my-pipelines'], tool);
    expect(init.stderr).toBe('');
    expect(init.code).toBe(0);
    projectDir = join(work, 'my-pipelines');
    const manifest = JSON.parse(readFileSync(join(projectDir, 'package.json'), 'utf8'));
    expect(manifest.dependencies.pipekit).toBe(`file:${join(work, 'package')}`);
    // The Pulumi SDKs (pulumi up's tools) are not in this machine's npm cache: the laptop needs none of them.
    delete manifest.devDependencies;
    writeFileSync(join(projectDir, 'package.json'), JSON.stringify(manifest, null, 2));

    // --ignore-scripts: npm runs `prepare` (the build) for a linked folder, never for an installed
    // tarball; this folder came out of the tarball and has its dist/ already.
    const install = await run('npm', ['install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund'], projectDir);
    expect(install.stderr).not.toMatch(/ERR/);
    expect(install.code).toBe(0);

    port = await freePort();
    const env = { PIPEKIT_PG_PORT: String(port), PIPEKIT_LOG_FORMAT: 'text' };
    const example = await run('npx', ['--offline', 'pipekit', 'run', 'example'], projectDir, env);
    expect(example.stdout).toMatch(/example \S+\s+✔ succeeded/);
    expect(example.stdout).toMatch(/export_titanic_clean\s+✔ succeeded\s+1\s+891/);
    expect(example.code).toBe(0);
    const [runs, status] = await Promise.all([
      run('npx', ['--offline', 'pipekit', 'runs'], projectDir, env),
      run('npx', ['--offline', 'pipekit', 'dev', 'status'], projectDir, env),
    ]);
    expect(runs.stdout).toMatch(/example\s+manual\s+.*✔ succeeded/);
    expect(status.stdout).toContain(`embedded PostgreSQL running on 127.0.0.1:${port}`);
    expect(status.stdout).toContain(`postgresql://postgres@127.0.0.1:${port}/pipekit`);
  });

  it('from the packed pipekit, pulumi up builds the image of the project and deploys its pipelines', async () => {
    const init = await run(process.execPath, [join(work, 'package', 'bin', 'pipekit.js'), 'init', 'to-deploy'], work);
    expect(init.code).toBe(0);
    const root = join(work, 'to-deploy');
    mkdirSync(join(root, 'node_modules'));
    symlinkSync(join(work, 'package'), join(root, 'node_modules', 'pipekit'), 'dir');
    // No pipekit:image: the program builds one from the installed pipekit plus this folder.
    const stack = await deployStack('', { image: undefined }, join(root, 'infra', 'index.ts'));
    const sources = stack.ofType('gcp:storage/bucketObject:BucketObject').map((o) => String(o.inputs.name));
    expect(sources.some((name) => /^image\/source-[0-9a-f]{16}\.zip$/.test(name))).toBe(true);
    const job = stack.ofType('gcp:cloudrunv2/job:Job').find((j) => j.inputs.name === 'pipekit-example')!;
    expect(job.inputs.template.template.containers[0].image).toBe(BUILT_IMAGE);
  });
});
