/**
 * Block files written in TypeScript are imported through tsx, registered the first time a
 * pipeline needs one: pipekit itself runs compiled (dist/), so a pipeline of SQL or JavaScript
 * blocks never pays for the loader (~0.1 s wall and a hooks thread). Editing a block and
 * re-running it needs no build step.
 */
const TYPESCRIPT_LOADER = Symbol.for('pipekit.typescriptLoader');
const TYPESCRIPT_FILE = /\.[cm]?tsx?$/;

let registering: Promise<void> | undefined;

export function needsTypeScriptLoader(path: string): boolean {
  return TYPESCRIPT_FILE.test(path);
}

/** Makes `import()` of `.ts` files work in this process; once, and only if nothing else does already. */
export function ensureTypeScriptLoader(): Promise<void> {
  const state = globalThis as Record<symbol, unknown>;
  // Set by bin/launch.js when pipekit itself runs from its sources through tsx, and by
  // test/setup/typescript-loader.ts: vitest transforms TypeScript on its own.
  if (state[TYPESCRIPT_LOADER]) return Promise.resolve();
  registering ??= import('tsx/esm/api').then(({ register }) => {
    register();
    state[TYPESCRIPT_LOADER] = true;
  });
  return registering;
}
