// Module hook for running pipekit from its TypeScript sources (bin/launch.js): every import is
// resolved with the `pipekit-source` export condition, so `import … from 'pipekit'` in a block
// file gets src/index.ts — the engine's own modules — rather than the compiled dist/.
export async function resolve(specifier, context, nextResolve) {
  return nextResolve(specifier, { ...context, conditions: [...context.conditions, 'pipekit-source'] });
}
