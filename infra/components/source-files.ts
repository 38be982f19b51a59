import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';

/**
 * The files of a source archive that `pulumi up` uploads (the functions'
 * source, the image's build context), and the content hash that names it, so
 * an unchanged tree keeps its object and nothing is rebuilt.
 */

/**
 * Never shipped, at any depth: local state, dependencies (builds install them from the
 * lockfile), artifacts, env files, and dist/'s build time (only bin/launch.js reads it; in the
 * archive it would change the content hash, and redeploy, at every build).
 */
const EXCLUDED = /^(node_modules|\.pipekit|test-artifacts|bench-results|\.git|\.env(\..*)?|\.DS_Store|\.build-stamp)$|\.log$/;

/**
 * Archive path → absolute file path, sorted: each of `paths` (files or
 * folders, relative to `repoRoot`), and the pipelines folder (absolute; it
 * may live outside the repo) always at `pipelines/`. A missing path throws,
 * naming what needs it, so a broken checkout fails the preview.
 */
export function sourceFiles(repoRoot: string, paths: readonly string[], pipelinesDir: string, neededBy: string): Map<string, string> {
  const files = new Map<string, string>();
  for (const path of paths) addTree(files, packagedPath(repoRoot, path), path, neededBy);
  addTree(files, pipelinesDir, 'pipelines', neededBy);
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Where a path of the sources is in this copy of pipekit. npm never packs
 * package-lock.json, so an installed pipekit (a project made by `pipekit init`)
 * has the copy scripts/build.mjs keeps in dist/.
 */
function packagedPath(repoRoot: string, path: string): string {
  const absolute = resolve(repoRoot, path);
  if (path === 'package-lock.json' && !existsSync(absolute)) return resolve(repoRoot, 'dist', path);
  return absolute;
}

/** 16 hex characters over every path and its bytes (plus `extra`, e.g. a generated entry file). */
export function sourceHash(files: ReadonlyMap<string, string>, extra = ''): string {
  const hash = createHash('sha256').update(extra);
  for (const [path, absolute] of files) {
    hash.update(`\0${path}\0`).update(readFileSync(absolute));
  }
  return hash.digest('hex').slice(0, 16);
}

function addTree(files: Map<string, string>, absolute: string, archivePath: string, neededBy: string): void {
  let stat;
  try {
    stat = statSync(absolute);
  } catch {
    throw new Error(`source archive: ${absolute} does not exist (${neededBy} need ${archivePath})`);
  }
  if (stat.isFile()) {
    files.set(archivePath, absolute);
    return;
  }
  for (const entry of readdirSync(absolute, { withFileTypes: true })) {
    if (EXCLUDED.test(entry.name)) continue;
    const child = join(absolute, entry.name);
    const childPath = `${archivePath}/${relative(absolute, child).split(sep).join('/')}`;
    if (entry.isDirectory()) addTree(files, child, childPath, neededBy);
    else if (entry.isFile()) files.set(childPath, child);
  }
}
