// Starts pipekit from the JavaScript compiled ahead of time into dist/ (`npm run build`, run by
// `prepare` at `npm ci` and in the image build), so no start transpiles pipekit's own code.
// In a checkout whose dist/ is missing or older than its sources it runs the TypeScript sources
// through tsx instead, so edited code never runs stale; PIPEKIT_FROM_SOURCE=1 asks for that.
import { existsSync, readdirSync, statSync } from 'node:fs';
import module_, { register } from 'node:module';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const STAMP = join(ROOT, 'dist', '.build-stamp');
const SOURCE_DIRS = ['src', 'functions'];
/** 1985-10-26T08:15:00Z: the time npm gives every file it packs. */
const NPM_PACKED_MTIME = 499162500000;

/** Why dist/ is not what the sources say, or null when it is current. */
export function staleReason(root = ROOT) {
  const stamp = join(root, 'dist', '.build-stamp');
  if (!existsSync(stamp)) return 'dist/ is not built';
  // An installed package or the container image ships dist/ without sources: nothing to compare.
  if (!existsSync(join(root, 'src'))) return null;
  // An installed package also ships src/ (infra/ imports it), but npm extracts every file with
  // the same 1985 mtime and its folders with the install time: its dist/ is what was packed.
  if (root.split(sep).includes('node_modules')) return null;
  const builtAt = statSync(stamp).mtimeMs;
  // The same package unpacked anywhere else (a tarball extracted beside a project, then linked).
  if (Math.abs(builtAt - NPM_PACKED_MTIME) < 1000) return null;
  for (const dir of SOURCE_DIRS) {
    const changed = changedSince(join(root, dir), builtAt);
    if (changed) return `${relative(root, changed)} changed since the last build`;
  }
  return null;
}

/**
 * The first file or folder under `dir` modified after `time` (folders too: adding or removing
 * a file changes its folder's time). A walk by hand: readdir's `recursive` option costs ~3×
 * as much at start-up, and this runs on every start in a checkout.
 */
function changedSince(dir, time) {
  if (!existsSync(dir)) return null;
  if (statSync(dir).mtimeMs > time) return dir;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const changed = entry.isDirectory() ? changedSince(path, time) : statSync(path).mtimeMs > time ? path : null;
    if (changed) return changed;
  }
  return null;
}

/** Lets this process import TypeScript: tsx, with `import 'pipekit'` resolved to src/index.ts. */
export async function registerSourceLoader() {
  register('./source-conditions.js', import.meta.url);
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
}

/** Imports `dist/<module>.js` when the build is current, else `<module>.ts` through tsx. */
export async function launch(module) {
  // Node 22.1+ keeps compiled code between starts (most of what a start costs is compiling
  // Arrow's 146 modules and pipekit's); Node 20 has no such cache.
  module_.enableCompileCache?.();
  const asked = Boolean(process.env.PIPEKIT_FROM_SOURCE);
  const reason = asked ? null : staleReason();
  if (!asked && reason === null) return import(pathToFileURL(join(ROOT, 'dist', `${module}.js`)).href);
  const source = join(ROOT, `${module}.ts`);
  if (!existsSync(source)) {
    process.stderr.write(
      `pipekit: ${STAMP} is missing and there are no sources to run instead: reinstall pipekit, or run \`npm run build\` in ${ROOT}\n`,
    );
    process.exit(2);
  }
  // A note for the person at the terminal; logs and pipes (tests, Cloud Logging) stay clean.
  if (reason && process.stderr.isTTY) {
    process.stderr.write(
      `pipekit: ${reason}, so the TypeScript sources run through tsx (a slower start); \`npm run build\` compiles them\n`,
    );
  }
  await registerSourceLoader();
  return import(pathToFileURL(source).href);
}
