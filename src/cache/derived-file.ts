import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** `<project>/.pipekit/cache/…`: where a project keeps what it derived from its own files. */
export function projectCachePath(projectRoot: string, ...parts: string[]): string {
  return join(projectRoot, '.pipekit', 'cache', ...parts);
}

/** What a kept value was derived from: each input's mtime and size when it was read. */
interface Entry<T> {
  readonly identity: string;
  readonly inputs: readonly (readonly [path: string, mtimeMs: number, size: number])[];
  readonly value: T;
}

/**
 * A value derived from files (a compiled block, a parsed pipeline.yaml), kept in a JSON file
 * until one of its inputs changes (mtime or size) or the code deriving it does (`identity`).
 * A hit costs one small read and a stat per input: that is what lets a run start without
 * esbuild, the YAML parser or zod.
 */
export function readDerived<T>(file: string, identity: string): T | undefined {
  let entry: Entry<T>;
  try {
    entry = JSON.parse(readFileSync(file, 'utf8')) as Entry<T>;
  } catch {
    return undefined;
  }
  if (entry.identity !== identity) return undefined;
  for (const [input, mtimeMs, size] of entry.inputs) {
    const stat = statSync(input, { throwIfNoEntry: false });
    if (!stat || stat.mtimeMs !== mtimeMs || stat.size !== size) return undefined;
  }
  return entry.value;
}

/**
 * Keeps `value`, derived from `inputs` by work that started at `startedAt`. An input saved
 * while it was read may not be what was read, so then nothing is kept (the next reader derives
 * it again). Written whole under a temporary name and renamed: processes share these files.
 */
export function writeDerived(
  file: string,
  identity: string,
  inputs: readonly string[],
  value: unknown,
  startedAt: number,
  options: { mode?: number } = {},
): void {
  const stats = inputs.map((input) => {
    const stat = statSync(input);
    return [input, stat.mtimeMs, stat.size] as const;
  });
  if (stats.some(([, mtimeMs]) => mtimeMs >= startedAt - 1)) return;
  writeAtomically(file, JSON.stringify({ identity, inputs: stats, value } satisfies Entry<unknown>), options.mode);
}

/** writeDerived where keeping is only a saving: a read-only project (an image) derives it each time. */
export function keepDerived(
  file: string,
  identity: string,
  inputs: readonly string[],
  value: unknown,
  startedAt: number,
  options: { mode?: number } = {},
): void {
  try {
    writeDerived(file, identity, inputs, value, startedAt, options);
  } catch {
    // Derived again next time.
  }
}

export function writeAtomically(file: string, text: string, mode?: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
  removeAbandoned(file);
}

/** Temporary files of this one that a process killed mid-write left; a minute old is abandoned. */
function removeAbandoned(file: string): void {
  const prefix = `${basename(file)}.`;
  for (const name of readdirSync(dirname(file))) {
    if (!name.startsWith(prefix) || !name.endsWith('.tmp')) continue;
    const path = join(dirname(file), name);
    const stat = statSync(path, { throwIfNoEntry: false });
    if (stat && Date.now() - stat.mtimeMs > 60_000) rmSync(path, { force: true });
  }
}
