import { createHash } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { projectCachePath, readDerived, writeAtomically, writeDerived } from '../cache/derived-file.ts';

/**
 * What a cached module depends on besides its inputs: the compiler's output format (bump when
 * compile-block.ts changes what it writes) and which pipekit compiled it — a module may point
 * at that pipekit's own index and Arrow, so another install (or its sources) compiles its own.
 */
const FORMAT = `block-module/2 ${import.meta.url}`;

/**
 * Imports a block file from its compiled module, compiling it when the cache has none for the
 * file as it is now. A cache hit costs one small JSON read and a stat per input file, so a run
 * starts without esbuild; editing a block and running it again recompiles just that block.
 *
 * The cache is `<project>/.pipekit/cache/blocks`, or one under the OS temporary folder when the
 * project is read-only. Processes may share it (backfill workers): files appear by rename.
 */
export async function importBlockFile(file: string, cacheDir: string): Promise<Record<string, unknown>> {
  const dirs = cacheDirs(cacheDir);
  const hit = firstCached(dirs, file);
  if (hit) {
    try {
      return await import(pathToFileURL(hit).href);
    } catch (error) {
      // A package the module points at moved (reinstalled, hoisted): compile against what is there now.
      if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND') throw error;
    }
  }
  return import(pathToFileURL(await compileIntoCache(dirs, file)).href);
}

/**
 * Compiles a block file into the cache unless it is there already, without running it
 * (`pipekit compile`: the image build does it, so a Cloud Run job never starts esbuild).
 */
export async function compileBlockFile(file: string, cacheDir: string): Promise<{ readonly compiled: boolean }> {
  const dirs = cacheDirs(cacheDir);
  if (firstCached(dirs, file)) return { compiled: false };
  await compileIntoCache(dirs, file);
  return { compiled: true };
}

/** `<project>/.pipekit/cache/blocks`: a project holds its pipelines as `<project>/<name>/pipeline.yaml`. */
export function blockCacheDir(pipelineFile: string): string {
  return projectCachePath(dirname(dirname(pipelineFile)), 'blocks');
}

function cacheDirs(cacheDir: string): string[] {
  return [cacheDir, join(tmpdir(), `pipekit-blocks-${userInfo().uid}`, hash(cacheDir))];
}

/** The compiled module of `file`, if one was compiled from the files as they are now. */
function firstCached(dirs: readonly string[], file: string): string | null {
  for (const dir of dirs) {
    const module = readDerived<string>(manifestPath(dir, file), FORMAT);
    if (module !== undefined) return join(dir, module);
  }
  return null;
}

async function compileIntoCache(dirs: readonly string[], file: string): Promise<string> {
  const startedAt = Date.now();
  const { compileBlock } = await import('./compile-block.ts');
  const compiled = await compileBlock(file);
  // Named by content, so a process still importing the previous version never sees a half-written file.
  const module = `${moduleStem(file)}${hash(compiled.code)}.mjs`;
  let lastError: unknown;
  for (const dir of dirs) {
    try {
      writeAtomically(join(dir, module), compiled.code);
      writeDerived(manifestPath(dir, file), FORMAT, compiled.inputs, module, startedAt);
      removeOlderModules(dir, file, module);
      return join(dir, module);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/** Earlier compilations of the same block file. A process that was about to import one compiles anew. */
function removeOlderModules(dir: string, file: string, keep: string): void {
  const stem = moduleStem(file);
  for (const name of readdirSync(dir)) {
    if (name !== keep && name.startsWith(stem) && name.endsWith('.mjs')) rmSync(join(dir, name), { force: true });
  }
}

/** `load_yellow_taxi.<path hash>.`: readable in a stack trace, and one block's files alone. */
function moduleStem(file: string): string {
  return `${basename(file).replace(/\.[^.]+$/, '')}.${hash(file)}.`;
}

function manifestPath(dir: string, file: string): string {
  return join(dir, `${hash(file)}.json`);
}

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
