#!/usr/bin/env node
// Compiles pipekit's own TypeScript (src/, functions/) into dist/ ahead of time, so the CLI, a
// Cloud Run job and the console start without transpiling anything (tsconfig.build.json).
// Run by `npm run build`, by `prepare` at `npm ci`, and in the image build. Plain JavaScript:
// it must run before anything is compiled.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const STAMP = join(dist, '.build-stamp');

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  // `npm ci --omit=dev` (a production install) also runs `prepare`, without the compiler: the
  // image copies dist/ from its build stage, and bin/pipekit.js says so if dist/ is missing.
  process.stderr.write('pipekit build: skipped, TypeScript is not installed (production install); dist/ must come from a build\n');
  process.exit(0);
}

// The stamp carries the time the compiler started reading the sources: a file saved during the
// build is newer than it, so bin/pipekit.js sees the build as stale.
const startedAt = new Date();
rmSync(dist, { recursive: true, force: true });
try {
  execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
} catch {
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write('pipekit build: tsc failed (errors above); dist/ removed so nothing stale runs\n');
  process.exit(1);
}
try {
  await vendorArrow();
} catch (error) {
  rmSync(dist, { recursive: true, force: true });
  process.stderr.write(`pipekit build: bundling Apache Arrow failed (${error.message}); dist/ removed so nothing stale runs\n`);
  process.exit(1);
}
// The console serves its page from beside its compiled server module.
cpSync(join(root, 'src/console/public'), join(dist, 'src/console/public'), { recursive: true });
// npm never packs package-lock.json: an installed pipekit's `pulumi up` builds its image from this copy.
cpSync(join(root, 'package-lock.json'), join(dist, 'package-lock.json'));
mkdirSync(dist, { recursive: true });
writeFileSync(STAMP, `${startedAt.toISOString()}\n`);
utimesSync(STAMP, startedAt, startedAt);

/**
 * Apache Arrow's ESM build is 146 modules, and loading them was a third of what a no-op run
 * cost (~0.1 CPU-s of every CLI start, Cloud Run job and backfill worker; Node 20 has no
 * compile cache). Bundled into one module it costs a fifth of that. pipekit's compiled code
 * imports that module instead of the package, and the block compiler gives blocks the same one
 * (src/table/arrow-module.ts), so there is still one Arrow in a process: tables pass between
 * blocks and the engine (`instanceof Table`) as before.
 */
async function vendorArrow() {
  const { build } = await import('esbuild');
  const lexer = await import('es-module-lexer');
  // The entry Node picks for `import 'apache-arrow'` (its "node" + "import" export), at the
  // package's root (its exports hide package.json from require.resolve).
  const entry = fileURLToPath(import.meta.resolve('apache-arrow'));
  const { version } = JSON.parse(readFileSync(join(dirname(entry), 'package.json'), 'utf8'));
  const vendored = join(dist, 'vendor', 'apache-arrow.js');
  await build({
    entryPoints: [entry],
    outfile: vendored,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    banner: { js: `// apache-arrow ${version} (Apache-2.0, see apache-arrow.LICENSE.txt) bundled by scripts/build.mjs` },
    logLevel: 'warning',
  });
  cpSync(join(dirname(entry), 'LICENSE.txt'), join(dist, 'vendor', 'apache-arrow.LICENSE.txt'));
  // Rewritten where es-module-lexer finds an import (static or dynamic) of the package, so
  // the name in a string or comment is left alone.
  await lexer.init;
  for (const file of compiledModules(dist)) {
    const code = readFileSync(file, 'utf8');
    if (!code.includes('apache-arrow')) continue;
    const [imports] = lexer.parse(code, file);
    const arrow = imports.filter((i) => i.n === 'apache-arrow');
    if (arrow.length === 0) continue;
    let path = relative(dirname(file), vendored);
    if (!path.startsWith('.')) path = `./${path}`;
    let rewritten = '';
    let at = 0;
    for (const i of arrow) {
      // A dynamic import's range includes its quotes; a static one's does not.
      const quoted = i.d > -1;
      rewritten += code.slice(at, i.s) + (quoted ? `'${path}'` : path);
      at = i.e;
    }
    writeFileSync(file, rewritten + code.slice(at));
  }
  // The block compiler's pointer at the running Arrow (src/table/arrow-module.ts).
  const pointer = join(dist, 'src', 'table', 'arrow-module.js');
  const pointed = readFileSync(pointer, 'utf8').replace(
    "import.meta.resolve('apache-arrow')",
    `new URL('${relative(dirname(pointer), vendored)}', import.meta.url).href`,
  );
  if (!pointed.includes('vendor/apache-arrow.js'))
    throw new Error(`${relative(root, pointer)} no longer resolves 'apache-arrow' as the build expects`);
  writeFileSync(pointer, pointed);
}

function* compiledModules(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* compiledModules(path);
    else if (entry.name.endsWith('.js') && path !== join(dist, 'vendor', 'apache-arrow.js')) yield path;
  }
}
