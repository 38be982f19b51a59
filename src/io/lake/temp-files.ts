/**
 * The local store's temporary files: where an object is written before it is
 * renamed into place. Named `.<pid>-<host>-<random>.pipekit-tmp`, so they
 * never match `*.parquet` (or any data) globs, are hidden from pyarrow and
 * Spark (leading dot), and say which process owns them.
 *
 * Why the owner is in the name: a killed process (SIGKILL, OOM, power loss)
 * cannot clean up, so the next write to the same dataset sweeps the temp
 * files of processes that are gone — and only those: a concurrent writer's
 * file in progress is never touched (see process/temp-owner.ts).
 */
import { randomBytes } from 'node:crypto';
import { unlinkSync } from 'node:fs';
import { readdir, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { abandoned, ownerTag, parseOwner } from '../../process/temp-owner.ts';

export const TEMP_SUFFIX = '.pipekit-tmp';

/** A fresh temp file name for this process. */
export function tempName(): string {
  return `.${ownerTag()}-${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
}

export function isTempName(name: string): boolean {
  return name.endsWith(TEMP_SUFFIX);
}

/** Temp files being written now: removed synchronously if the process exits first (process.exit, a fatal error). */
const inFlight = new Set<string>();
let hooked = false;

/** Tracks `path` until the returned function is called; see {@link inFlight}. */
export function trackTemp(path: string): () => void {
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const p of inFlight) {
        try {
          unlinkSync(p);
        } catch {
          // already renamed into place or removed
        }
      }
    });
  }
  inFlight.add(path);
  return () => inFlight.delete(path);
}

/** Removes orphaned temp files in `folder` (and, when `recursive`, the folders below it); returns how many. */
export async function sweepTempFiles(folder: string, recursive = true): Promise<number> {
  let entries;
  try {
    entries = await readdir(folder, { withFileTypes: true });
  } catch {
    return 0; // nothing written there yet
  }
  let removed = 0;
  for (const entry of entries) {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) removed += recursive ? await sweepTempFiles(path) : 0;
    else if (entry.isFile() && isTempName(entry.name) && !inFlight.has(path)) {
      const { mtimeMs } = await stat(path).catch(() => ({ mtimeMs: Date.now() }));
      if (abandoned(parseOwner(entry.name.slice(1)), mtimeMs))
        await unlink(path).then(
          () => removed++,
          () => undefined,
        );
    }
  }
  return removed;
}
