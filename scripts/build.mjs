#!/usr/bin/env node
// Compiles pipekit's own TypeScript (src/, functions/) into dist/ ahead of time, so the CLI, a
// Cloud Run job and the console start without transpiling anything (tsconfig.build.json).
// Run by `npm run build`, by `prepare` at `npm ci`, and in the image build. Plain JavaScript:
// it must run before anything is compiled.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
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
// The console serves its page from beside its compiled server module.
cpSync(join(root, 'src/console/public'), join(dist, 'src/console/public'), { recursive: true });
// npm never packs package-lock.json: an installed pipekit's `pulumi up` builds its image from this copy.
cpSync(join(root, 'package-lock.json'), join(dist, 'package-lock.json'));
mkdirSync(dist, { recursive: true });
writeFileSync(STAMP, `${startedAt.toISOString()}\n`);
utimesSync(STAMP, startedAt, startedAt);
