#!/usr/bin/env node
// Runs a TypeScript script (benchmarks, generators) from the sources, through tsx.
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { registerSourceLoader } from './launch.js';

await registerSourceLoader();
const [script, ...rest] = process.argv.slice(2);
if (!script) {
  console.error('usage: run-ts.js <script.ts> [args...]');
  process.exit(2);
}
process.argv = [process.argv[0], resolve(script), ...rest];
await import(pathToFileURL(resolve(script)).href);
