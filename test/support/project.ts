import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_DATA = resolve(REPO_ROOT, '../shared/data');

export interface TestProject {
  readonly root: string;
  write(path: string, text: string): void;
  remove(): void;
}

/**
 * A throwaway project folder inside the repo (under test-artifacts/, git-ignored),
 * so block files can `import … from 'pipekit'` like users' blocks do.
 * `profile` becomes the `test` profile of its io_config.yaml, with the lake,
 * warehouse and workspace inside the folder.
 */
export function createTestProject(name: string, profile: Record<string, unknown>, files: Record<string, string> = {}): TestProject {
  const root = join(REPO_ROOT, 'test-artifacts', 'projects', `${name}-${randomBytes(3).toString('hex')}`);
  mkdirSync(root, { recursive: true });
  const write = (path: string, text: string) => {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, text);
  };
  write(
    'io_config.yaml',
    stringify({
      test: {
        LAKE_URI: 'lake',
        WAREHOUSE: 'duckdb',
        DUCKDB_PATH: 'warehouse.duckdb',
        WORKSPACE_URI: 'workspace',
        ...profile,
      },
    }),
  );
  for (const [path, text] of Object.entries(files)) write(path, text);
  return { root, write, remove: () => rmSync(root, { recursive: true, force: true }) };
}

/**
 * Copies the repository's example pipelines into `root`: every folder of pipelines/ (the
 * pipelines and their shared blocks), and with `ioConfig` its io_config.yaml over the test's own.
 */
export function copyExamplePipelines(root: string, options: { ioConfig?: boolean } = {}): void {
  const examples = join(REPO_ROOT, 'pipelines');
  for (const entry of readdirSync(examples, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || (!entry.isDirectory() && !options.ioConfig)) continue;
    cpSync(join(examples, entry.name), join(root, entry.name), { recursive: true });
  }
}
