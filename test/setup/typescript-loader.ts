// vitest transforms the TypeScript it imports (block files included), so the engine must not
// register tsx inside test workers (src/engine/typescript-loader.ts).
(globalThis as Record<symbol, unknown>)[Symbol.for('pipekit.typescriptLoader')] = true;
