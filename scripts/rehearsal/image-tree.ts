/**
 * The container image's file tree, laid out as the Dockerfile lays it out:
 * only what its final stage COPYs from the build context (after
 * .dockerignore), and node_modules as `npm ci --omit=dev` would leave it —
 * the production packages of package-lock.json, hardlinked from the
 * worktree's node_modules (no network). Assembled once per content hash into
 * /tmp and reused by every rehearsal on the machine.
 */
import { createHash } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  linkSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { ConfigError } from '../../src/errors.ts';
import { containerProcess } from './container.ts';
import { parseDockerfile, type Dockerfile, type RunInstruction, type Stage } from './dockerfile.ts';

export interface ImageTree {
  /** Where the image's WORKDIR content lives on this machine. */
  readonly root: string;
  readonly dockerfile: Dockerfile;
  /** `sha256:<hex>` of the tree's file list: the digest the rehearsal's registry serves. */
  readonly digest: string;
  /** The final stage's WORKDIR (`/app`). */
  readonly workdir: string;
  /** The uid/gid of the final stage's USER (`node` → 1000). */
  readonly uid: number;
  readonly gid: number;
  /** Paths the context held but .dockerignore kept out, for the report. */
  readonly ignored: readonly string[];
  readonly files: number;
}

/** `node` in the official Node images. */
const KNOWN_USERS: Record<string, number> = { node: 1000, root: 0 };

/** Builds (or reuses) the tree of the image built from `context`. */
export function assembleImageTree(
  context: string,
  options: { overlay?: Record<string, string>; cacheDir?: string; target?: string } = {},
): ImageTree {
  const dockerfile = parseDockerfile(readFileSync(join(context, 'Dockerfile'), 'utf8'), join(context, 'Dockerfile'));
  const ignore = dockerIgnore(context);
  const stage = options.target ? dockerfile.stages.find((st) => st.name === options.target) : dockerfile.runtime;
  if (!stage)
    throw new ConfigError({
      file: dockerfile.file,
      message: `has no stage ${options.target}`,
      hint: 'the build names a --target the Dockerfile does not have',
    });
  if (!stage.workdir.startsWith('/'))
    throw new ConfigError({ file: dockerfile.file, message: 'the final stage has no absolute WORKDIR', hint: 'add WORKDIR /app' });

  // Plan every file first: its source, its place in the tree, and whether it is a production dependency.
  const plan: PlanItem[] = [];
  const ignored = new Set<string>();
  /** Folders a COPY --chown lays out: the image's user owns them (and may write in them). */
  const owned: string[] = [];
  for (const copy of stage.copies) {
    const dest = copy.dest.startsWith('/') ? copy.dest : posix.join(stage.workdir, copy.dest);
    if (!dest.startsWith(stage.workdir)) {
      throw new ConfigError({
        file: dockerfile.file,
        key: `line ${copy.line}`,
        message: `COPY to ${dest}, outside WORKDIR ${stage.workdir}`,
        hint: 'the rehearsal lays out WORKDIR only',
      });
    }
    const target = relative(stage.workdir, dest);
    if (copy.from) {
      for (const src of copy.sources)
        plan.push(...fromStage(dockerfile, copy.from, src, target, context, copy.line, ignore, options.overlay));
      continue;
    }
    for (const src of copy.sources) {
      const files = contextFiles(context, src.replace(/^\.\//, '').replace(/\/$/, ''), ignore, ignored, options.overlay);
      if (files.length === 0) {
        throw new ConfigError({
          file: dockerfile.file,
          key: `line ${copy.line}`,
          message: `COPY ${src}: file not found in build context or excluded by .dockerignore`,
          hint: 'the build would fail here: un-ignore it in .dockerignore or drop the COPY',
        });
      }
      const intoDir = copy.sources.length > 1 || copy.dest.endsWith('/') || statSync(files[0]!.abs).isFile() === false || files.length > 1;
      if (copy.chown && intoDir) owned.push(target);
      for (const f of files) plan.push({ from: f.abs, to: intoDir ? join(target, f.rel) : target, link: false });
    }
  }

  const hash = createHash('sha256').update(`${stage.name ?? ''}\n`);
  for (const p of plan) {
    if (p.key) {
      hash.update(`${p.to}\0${p.key}\n`);
      continue;
    }
    const s = lstatSync(p.from);
    hash.update(`${p.to}\0${s.size}\0${s.mtimeMs}\0${s.mode}\n`);
  }
  const userRuns = stage.steps.flatMap((step) => (step.kind === 'run' && step.run.user && step.run.user !== 'root' ? [step.run] : []));
  for (const run of userRuns) hash.update(`RUN ${run.user} ${run.command}\n`);
  const digest = `sha256:${hash.digest('hex')}`;
  const cacheDir = options.cacheDir ?? tmpdir();
  const root = join(cacheDir, `pipekit-rehearsal-image-${digest.slice(7, 23)}`);
  const user = stage.user ?? 'root';
  const uid = userId(user);
  // The tree runs with this stage's ENV, ENTRYPOINT and CMD.
  const result = {
    root,
    dockerfile: { ...dockerfile, runtime: stage },
    digest,
    workdir: stage.workdir,
    uid,
    gid: uid,
    ignored: [...ignored].sort(),
    files: plan.length,
  };
  if (existsSync(join(root, '.rehearsal-complete'))) return result;

  pruneOldTrees(cacheDir);
  const building = `${root}.${process.pid}.tmp`;
  rmSync(building, { recursive: true, force: true });
  mkdirSync(building, { recursive: true });
  for (const p of plan) {
    const to = join(building, p.to);
    mkdirSync(dirname(to), { recursive: true });
    const s = lstatSync(p.from);
    if (s.isSymbolicLink()) symlinkSync(readlinkSync(p.from), to);
    else if (p.link) linkSync(p.from, to);
    else {
      copyFileSync(p.from, to);
      // --chown=node:node in the Dockerfile; hardlinked dependencies keep the worktree's owner (read-only for the app either way).
      chownSync(to, uid, uid);
    }
  }
  chmodDirs(building);
  chmodSync(building, 0o755);
  for (const target of owned) chownDirs(join(building, target), uid);
  // RUN steps as the image's user work on the app (`pipekit compile`): run in the tree as a
  // container would. Those as root set up the system (mkdir /mnt/…): nothing of the tree.
  for (const run of userRuns)
    runInTree({ ...result, root: building, uid: userId(run.user!), gid: userId(run.user!) }, run, dockerfile.file);
  writeFileSafe(join(building, '.rehearsal-complete'), digest);
  try {
    renameSync(building, root);
  } catch {
    rmSync(building, { recursive: true, force: true }); // another process finished first
  }
  return result;
}

/** The .dockerignore rules of a context: Docker's semantics, the last matching pattern wins. */
export function dockerIgnore(context: string): (rel: string) => boolean {
  const file = join(context, '.dockerignore');
  if (!existsSync(file)) return () => false;
  const rules = readFileSync(file, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize(l.replace(/^!/, '').replace(/^\/+/, '')).replace(/\/+$/, '');
      return { negate, regex: globToRegex(pattern) };
    });
  return (rel) => {
    let excluded = false;
    const parts = rel.split('/');
    for (const rule of rules) {
      // A pattern matches a path or any of its parent folders.
      for (let i = parts.length; i > 0; i--) {
        if (rule.regex.test(parts.slice(0, i).join('/'))) {
          excluded = !rule.negate;
          break;
        }
      }
    }
    return excluded;
  };
}

function globToRegex(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]!;
    if (c === '*' && glob[i + 1] === '*') {
      out += glob[i + 2] === '/' ? '(?:.*/)?' : '.*';
      i += glob[i + 2] === '/' ? 2 : 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${out}$`);
}

/** Files under `src` in the context that survive .dockerignore (`overlay` swaps a top-level folder for another, e.g. a test project). */
function contextFiles(
  context: string,
  src: string,
  ignore: (rel: string) => boolean,
  ignored: Set<string>,
  overlay: Record<string, string> = {},
): { abs: string; rel: string }[] {
  const top = src.split('/')[0]!;
  const base = overlay[top] ? join(overlay[top]!, src.slice(top.length)) : join(context, src);
  if (ignore(src)) {
    // Docker still walks into an ignored folder when a later `!` rule re-includes something under it.
    if (!existsSync(base)) return [];
  }
  if (!existsSync(base)) return [];
  const out: { abs: string; rel: string }[] = [];
  const walk = (abs: string, rel: string) => {
    const contextRel = rel ? `${src}/${rel}` : src;
    const s = lstatSync(abs);
    if (s.isDirectory()) {
      for (const entry of readdirSync(abs).sort()) walk(join(abs, entry), rel ? `${rel}/${entry}` : entry);
      return;
    }
    if (ignore(contextRel)) {
      ignored.add(contextRel.split('/').slice(0, 2).join('/'));
      return;
    }
    out.push({ abs, rel: rel || posix.basename(src) });
  };
  walk(base, '');
  return out;
}

interface PlanItem {
  readonly from: string;
  readonly to: string;
  /** Hardlink (dependencies) rather than copy. */
  readonly link: boolean;
  /** Identity for the tree's hash when the file's stat says nothing stable (outputs of a built stage). */
  readonly key?: string;
}

/**
 * `COPY --from=<stage>`: node_modules of a stage that runs `npm ci
 * --omit=dev` are the lockfile's production packages; anything else comes
 * from building that stage here (buildStage).
 */
function fromStage(
  dockerfile: Dockerfile,
  name: string,
  src: string,
  target: string,
  context: string,
  line: number,
  ignore: (rel: string) => boolean,
  overlay?: Record<string, string>,
): PlanItem[] {
  const stage = dockerfile.stages.find((s) => s.name === name);
  if (!stage)
    throw new ConfigError({
      file: dockerfile.file,
      key: `line ${line}`,
      message: `COPY --from=${name}: no such stage`,
      hint: 'name a stage defined above with FROM … AS <name>',
    });
  const installsProduction = stage.runs.some((r) => /\bnpm\s+ci\b.*--omit[= ]dev|\bnpm\s+ci\b.*--production/.test(r.command));
  if (installsProduction && /node_modules\/?$/.test(src)) {
    return productionDependencies(context).map((p) => ({
      from: join(context, p),
      to: join(target, relative('node_modules', p)),
      link: true,
    }));
  }
  const built = buildStage(
    dockerfile,
    stage,
    context,
    ignore,
    overlay,
    relative(stage.workdir, src.startsWith('/') ? src : posix.join(stage.workdir, src)),
  );
  const from = join(built.dir, relative(stage.workdir, src.startsWith('/') ? src : posix.join(stage.workdir, src)));
  if (!existsSync(from)) {
    throw new ConfigError({
      file: dockerfile.file,
      key: `line ${line}`,
      message: `COPY --from=${name} ${src}: the stage did not produce it`,
      hint: `see the stage's RUN output; it was built in ${built.dir}`,
    });
  }
  const items: PlanItem[] = [];
  const walk = (abs: string, rel: string) => {
    if (lstatSync(abs).isDirectory()) {
      for (const entry of readdirSync(abs).sort()) walk(join(abs, entry), rel ? `${rel}/${entry}` : entry);
    } else items.push({ from: abs, to: rel ? join(target, rel) : target, link: false, key: `${built.key}:${rel}` });
  };
  walk(from, '');
  return items;
}

/**
 * Builds a stage the way docker would, in a folder of its own: its COPYs
 * from the context (after .dockerignore), `npm ci` as the worktree's
 * node_modules (the same lockfile), and every other RUN executed with sh in
 * the stage's WORKDIR. Kept per content hash, so a second rehearsal reuses it.
 */
function buildStage(
  dockerfile: Dockerfile,
  stage: Stage,
  context: string,
  ignore: (rel: string) => boolean,
  overlay: Record<string, string> | undefined,
  output: string,
): { dir: string; key: string } {
  const inputs: { src: string; dest: string; files: { abs: string; rel: string }[] }[] = [];
  let newestInput = 0;
  const hash = createHash('sha256').update(`${stage.name}\n`);
  const unused = new Set<string>();
  for (const step of stage.steps) {
    if (step.kind === 'run') {
      hash.update(`RUN ${step.run.command}\n`);
      continue;
    }
    if (step.copy.from)
      throw new ConfigError({
        file: dockerfile.file,
        key: `line ${step.copy.line}`,
        message: 'COPY --from inside a built stage',
        hint: 'extend scripts/rehearsal/image-tree.ts',
      });
    for (const src of step.copy.sources) {
      const clean = src.replace(/^\.\//, '').replace(/\/$/, '');
      const files = contextFiles(context, clean, ignore, unused, overlay);
      if (files.length === 0) {
        throw new ConfigError({
          file: dockerfile.file,
          key: `line ${step.copy.line}`,
          message: `COPY ${src}: file not found in build context or excluded by .dockerignore`,
          hint: 'the build would fail here: un-ignore it in .dockerignore or drop the COPY',
        });
      }
      for (const f of files) {
        const s = lstatSync(f.abs);
        newestInput = Math.max(newestInput, s.mtimeMs);
        hash.update(`${clean}/${f.rel}\0${s.size}\0${s.mtimeMs}\n`);
      }
      inputs.push({ src: clean, dest: step.copy.dest, files });
    }
  }
  const key = hash.digest('hex').slice(0, 16);
  const done = join(tmpdir(), `pipekit-rehearsal-stage-${stage.name}-${key}`);
  if (existsSync(join(done, '.rehearsal-complete'))) return { dir: done, key };
  // The worktree's own build of these same inputs (`npm test` runs it first), if every file of it is newer than every input.
  const local = join(context, output);
  if (existsSync(local) && oldestFile(local) > newestInput) return { dir: context, key };
  // One rehearsal builds; the others on this machine wait for it.
  const lock = `${done}.lock`;
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(join(done, '.rehearsal-complete'))) return { dir: done, key };
      if (Date.now() > deadline) rmSync(lock, { recursive: true, force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    return buildStageLocked(dockerfile, stage, context, inputs, key, done);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

function buildStageLocked(
  dockerfile: Dockerfile,
  stage: Stage,
  context: string,
  inputs: { src: string; dest: string; files: { abs: string; rel: string }[] }[],
  key: string,
  done: string,
): { dir: string; key: string } {
  if (existsSync(join(done, '.rehearsal-complete'))) return { dir: done, key };
  // Built beside its final place and renamed, so two rehearsals building at once never share a half-built stage.
  const dir = `${done}.${process.pid}.tmp`;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  let copyIndex = 0;
  for (const step of stage.steps) {
    if (step.kind === 'copy') {
      for (const _src of step.copy.sources) {
        const input = inputs[copyIndex++]!;
        const destAbs = input.dest.startsWith('/') ? input.dest : posix.join(stage.workdir, input.dest);
        const into = join(dir, relative(stage.workdir, destAbs));
        const single =
          input.files.length === 1 &&
          !input.dest.endsWith('/') &&
          step.copy.sources.length === 1 &&
          statSync(input.files[0]!.abs).isFile() &&
          input.files[0]!.rel === posix.basename(input.src);
        for (const f of input.files) {
          const to = single ? into : join(into, f.rel);
          mkdirSync(dirname(to), { recursive: true });
          copyFileSync(f.abs, to);
        }
      }
      continue;
    }
    if (/^\s*npm\s+ci\b/.test(step.run.command) && !existsSync(join(dir, 'node_modules'))) {
      // The lockfile's packages, dev ones included, are the worktree's node_modules.
      symlinkSync(join(context, 'node_modules'), join(dir, 'node_modules'));
      continue;
    }
    const result = spawnSync('sh', ['-c', step.run.command], { cwd: dir, env: { ...process.env, ...stage.env }, encoding: 'utf8' });
    if (result.status !== 0) throw runFailed(dockerfile.file, step.run, result);
  }
  writeFileSync(join(dir, '.rehearsal-complete'), key);
  try {
    renameSync(dir, done);
  } catch {
    rmSync(dir, { recursive: true, force: true }); // another rehearsal finished first
  }
  return { dir: done, key };
}

/** Every file of the packages `npm ci --omit=dev` installs: lockfile entries not marked `dev`, as installed in node_modules. */
export function productionDependencies(context: string): string[] {
  const lock = JSON.parse(readFileSync(join(context, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; link?: boolean; bin?: Record<string, string> | string; name?: string }>;
  };
  const keep = Object.entries(lock.packages).filter(([path, meta]) => path.startsWith('node_modules/') && !meta.dev);
  const files: string[] = [];
  for (const [path, meta] of keep) {
    const abs = join(context, path);
    if (!existsSync(abs)) continue; // optional, for another platform
    const walk = (dir: string) => {
      for (const entry of readdirSync(join(context, dir), { withFileTypes: true })) {
        const rel = `${dir}/${entry.name}`;
        if (entry.isDirectory()) {
          if (entry.name === 'node_modules') continue; // nested packages are lockfile entries of their own
          walk(rel);
        } else files.push(rel);
      }
    };
    if (meta.link) continue;
    walk(path);
    // npm links the package's executables into the nearest node_modules/.bin.
    const bins = typeof meta.bin === 'string' ? { [posix.basename(path)]: meta.bin } : (meta.bin ?? {});
    for (const name of Object.keys(bins)) {
      const bin = join(dirname(path), '.bin', name);
      if (existsSync(join(context, bin))) files.push(bin);
    }
  }
  return files;
}

/** Trees and stages of sources from more than a day ago: nothing rehearses them any more. */
function pruneOldTrees(cacheDir: string): void {
  const dayAgo = Date.now() - 24 * 3600_000;
  for (const name of readdirSync(cacheDir)) {
    if (!/^pipekit-rehearsal-(image|stage)-/.test(name)) continue;
    const path = join(cacheDir, name);
    try {
      if (statSync(path).mtimeMs < dayAgo) rmSync(path, { recursive: true, force: true });
    } catch {
      /* removed by another rehearsal */
    }
  }
}

/** The modification time of the oldest file under a folder. */
function oldestFile(dir: string): number {
  let oldest = Infinity;
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      if (entry.isDirectory()) walk(join(d, entry.name));
      else oldest = Math.min(oldest, lstatSync(join(d, entry.name)).mtimeMs);
    }
  };
  walk(dir);
  return oldest;
}

function userId(user: string): number {
  return KNOWN_USERS[user.split(':')[0]!] ?? Number(user.split(':')[0]);
}

function chownDirs(dir: string, uid: number): void {
  chownSync(dir, uid, uid);
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) chownDirs(join(dir, entry.name), uid);
}

function runInTree(tree: ImageTree, run: RunInstruction, file: string): void {
  const {
    file: command,
    args,
    cwd,
    env,
  } = containerProcess({
    tree,
    command: ['sh', '-c', run.command],
    env: {},
    mounts: {},
    network: {},
    label: 'image-build',
  });
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8' });
  if (result.status !== 0) throw runFailed(file, run, result);
}

/** A RUN step that failed, named by its Dockerfile line, with the end of its output. */
function runFailed(file: string, run: RunInstruction, result: { status: number | null; stdout: string; stderr: string }): ConfigError {
  return new ConfigError({
    file,
    key: `line ${run.line}`,
    message: `RUN ${run.command} failed (exit ${result.status}): ${(result.stderr || result.stdout).trim().slice(-800)}`,
    hint: 'the image build would fail here too',
  });
}

function chmodDirs(dir: string): void {
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) chmodDirs(join(dir, entry.name));
}

function writeFileSafe(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}
