/**
 * Runs one container of the image tree the way Cloud Run would: the image's
 * ENV under the workload's env, ENTRYPOINT (or the declared command) with the
 * declared args, in WORKDIR, as the image's non-root USER, with each volume
 * at its declared mount path.
 *
 * Mounts are real: every container gets its own mount namespace (`unshare
 * -m`), the tree is bind-mounted at WORKDIR (/app) and each volume's local
 * folder at its mount path (/mnt/workspace), the base image's /etc/passwd
 * over this machine's, then privileges drop to the image's uid with
 * `setpriv`. Where that is not possible (not root, no unshare), the tree
 * runs from its own folder as the current user, and env values that name a
 * mount path are rewritten to the local folder — the report says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageTree } from './image-tree.ts';

export interface ContainerSpec {
  readonly tree: ImageTree;
  /** Overrides the image's ENTRYPOINT (Cloud Run's `command`). */
  readonly command?: readonly string[];
  /** Replaces the image's CMD (Cloud Run's `args`). */
  readonly args?: readonly string[];
  /** The workload's env, secrets already resolved. */
  readonly env: Readonly<Record<string, string>>;
  /** mount path → local folder. */
  readonly mounts: Readonly<Record<string, string>>;
  /** Extra env the rehearsal's network needs (endpoints of the stand-ins); not part of the workload. */
  readonly network: Readonly<Record<string, string>>;
  readonly label: string;
}

export interface ContainerResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

export interface RunningContainer {
  readonly process: ChildProcess;
  readonly done: Promise<ContainerResult>;
  readonly output: () => string;
  stop(): void;
}

let namespaces: boolean | undefined;

/** True when containers get real mounts (root, unshare and setpriv work here). */
export function realMounts(): boolean {
  // PIPEKIT_REHEARSAL_NO_NAMESPACES=1 forces the fallback (machines where unshare is not permitted behave the same).
  if (namespaces === undefined && process.env.PIPEKIT_REHEARSAL_NO_NAMESPACES === '1') namespaces = false;
  if (namespaces === undefined) {
    const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs none /mnt && command -v setpriv'], {
      stdio: 'ignore',
    });
    namespaces = process.getuid?.() === 0 && probe.status === 0;
  }
  return namespaces;
}

/**
 * The process that is the container: `unshare` with the mounts, then the image's user, or the
 * tree's own folder where namespaces are not possible. `startContainer` runs it; the image
 * build's RUN steps (image-tree.ts) run it to completion.
 */
export function containerProcess(spec: ContainerSpec): { file: string; args: string[]; cwd: string; env: Record<string, string> } {
  const { tree } = spec;
  const stage = tree.dockerfile.runtime;
  const argv = [...(spec.command ?? stage.entrypoint ?? []), ...(spec.args ?? (spec.command ? [] : (stage.cmd ?? [])))];
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: '/home/node',
    HOSTNAME: spec.label,
    ...stage.env,
    ...spec.env,
    ...spec.network,
  };
  const real = realMounts();
  let file: string;
  let fileArgs: string[];
  let cwd: string;
  if (real) {
    const users = imageUsers();
    const script = [
      'set -e',
      // The base image's users (node is 1000), not this machine's.
      `mount --bind ${q(users.passwd)} /etc/passwd`,
      `mount --bind ${q(users.group)} /etc/group`,
      ...(tree.workdir === '/' ? [] : [`mkdir -p ${q(tree.workdir)}`, `mount --bind ${q(tree.root)} ${q(tree.workdir)}`]),
      // The image's HOME; a tmpfs so nothing of this machine's shows through.
      'mkdir -p /home/node',
      `mount -t tmpfs -o uid=${tree.uid},gid=${tree.gid},mode=0755 tmpfs /home/node`,
      ...Object.entries(spec.mounts).flatMap(([path, local]) => [`mkdir -p ${q(path)}`, `mount --bind ${q(local)} ${q(path)}`]),
      `cd ${q(tree.workdir)}`,
      `exec setpriv --reuid=${tree.uid} --regid=${tree.gid} --clear-groups -- "$@"`,
    ].join('\n');
    file = 'unshare';
    fileArgs = ['-m', '--propagation', 'private', 'sh', '-c', script, 'container', ...argv];
    cwd = '/';
  } else {
    for (const [name, value] of Object.entries(env)) {
      for (const [path, local] of Object.entries(spec.mounts))
        if (value === path || value.startsWith(`${path}/`)) env[name] = local + value.slice(path.length);
    }
    env.HOME = tree.root;
    for (const local of Object.values(spec.mounts)) mkdirSync(local, { recursive: true });
    [file, ...fileArgs] = argv as [string, ...string[]];
    cwd = tree.root;
  }
  return { file, args: fileArgs, cwd, env };
}

/** Starts the container; `done` settles when it exits. */
export function startContainer(spec: ContainerSpec): RunningContainer {
  const { file, args: fileArgs, cwd, env } = containerProcess(spec);
  const started = Date.now();
  const child = spawn(file, fileArgs, {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  let both = '';
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d;
    both += d;
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d;
    both += d;
  });
  const done = new Promise<ContainerResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ exitCode: code ?? (signal ? 128 + 15 : 1), stdout, stderr, ms: Date.now() - started }));
    child.on('error', (error) => resolve({ exitCode: 127, stdout, stderr: `${stderr}${error.message}`, ms: Date.now() - started }));
  });
  return { process: child, done, output: () => both, stop: () => child.kill('SIGTERM') };
}

let users: { passwd: string; group: string } | undefined;

/** /etc/passwd and /etc/group of the official Node images: this machine's, with `node` as uid/gid 1000. */
function imageUsers(): { passwd: string; group: string } {
  if (users) return users;
  const keep = (file: string) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l && !/^[^:]*:[^:]*:1000:/.test(l) && !l.startsWith('node:'));
  const passwdText = [...keep('/etc/passwd'), 'node:x:1000:1000::/home/node:/bin/bash', ''].join('\n');
  const groupText = [...keep('/etc/group'), 'node:x:1000:', ''].join('\n');
  // Named by content: every rehearsal on this machine shares one copy.
  const dir = join(
    tmpdir(),
    `pipekit-rehearsal-etc-${createHash('sha256')
      .update(passwdText + groupText)
      .digest('hex')
      .slice(0, 12)}`,
  );
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o755);
  const passwd = join(dir, 'passwd');
  const group = join(dir, 'group');
  writeFileSync(passwd, passwdText, { mode: 0o644 });
  writeFileSync(group, groupText, { mode: 0o644 });
  users = { passwd, group };
  return users;
}

function q(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}
