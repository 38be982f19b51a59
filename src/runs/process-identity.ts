import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * When the OS says process `pid` started, as an opaque token: the same
 * process always gives the same token, a later process reusing the pid a
 * different one. Linux: field 22 of /proc/<pid>/stat (clock ticks after
 * boot); elsewhere `ps -o lstart=`. Null when the process does not exist
 * (or the OS does not say).
 */
export function processStartToken(pid: number): string | null {
  if (process.platform === 'linux') {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return fields[19] ? `linux:${fields[19]}` : null;
    } catch {
      return null;
    }
  }
  try {
    const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return started ? `ps:${started}` : null;
  } catch {
    return null;
  }
}

/**
 * Whether the process that recorded (`pid`, `startToken`) is still running
 * on this host. Without a token (an older record) the pid alone decides.
 */
export function isProcessAlive(pid: number, startToken: string | null): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, owned by another user.
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  // A killed process its parent has not reaped yet (a zombie) still answers kill(pid, 0).
  if (isZombie(pid)) return false;
  return startToken === null || processStartToken(pid) === startToken;
}

function isZombie(pid: number): boolean {
  if (process.platform !== 'linux') return false;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
