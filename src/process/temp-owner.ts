/**
 * Who owns a temporary file or folder: `<pid>-<host>` in its name, so that
 * the next process can tell leftovers of a killed one (same host, pid gone)
 * from work in progress — also in a folder several machines share (a
 * Filestore TMPDIR, an NFS lake), where another host's pid means nothing here.
 */
import { hostname } from 'node:os';

/** Another host's temp files (or ones named without an owner) are taken for leftovers only once this old. */
export const FOREIGN_AGE_MS = 60 * 60 * 1000;

const HOST =
  hostname()
    .replace(/[^A-Za-z0-9]/g, '')
    .slice(0, 24) || 'host';

/** `<pid>-<host>` of this process, for temp names. */
export function ownerTag(): string {
  return `${process.pid}-${HOST}`;
}

/** Reads the `<pid>-<host>` at the start of `text`, if any. */
export function parseOwner(text: string): { pid: number; host: string } | undefined {
  const m = /^(\d+)-([A-Za-z0-9]+)-/.exec(text);
  return m ? { pid: Number(m[1]), host: m[2] } : undefined;
}

/**
 * Whether what `owner` left is certainly abandoned: its process is gone from
 * this host, or (another host's, or no owner) it has not changed for {@link FOREIGN_AGE_MS}.
 */
export function abandoned(owner: { pid: number; host: string } | undefined, modifiedMs: number): boolean {
  if (owner?.host === HOST) return owner.pid !== process.pid && !alive(owner.pid);
  return Date.now() - modifiedMs > FOREIGN_AGE_MS;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
