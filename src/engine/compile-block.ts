import { readFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PartialMessage, Plugin } from 'esbuild';
import { ConfigError } from '../errors.ts';
import { ARROW_MODULE_URL } from '../table/arrow-module.ts';

/** A block file compiled to one self-contained ES module. */
export interface CompiledBlock {
  readonly code: string;
  /** Every project file bundled into it (the block and what it imports by relative path). */
  readonly inputs: readonly string[];
}

/**
 * pipekit as it is running: blocks that cannot resolve 'pipekit' themselves (a project with no
 * node_modules, run with --project from a checkout) get this one, so there is one engine.
 */
const RUNNING_PIPEKIT = new URL(import.meta.url.endsWith('.ts') ? '../index.ts' : '../index.js', import.meta.url).href;
/** Run from the sources (tests, PIPEKIT_FROM_SOURCE), 'pipekit' resolves to src/index.ts as for the engine. */
const CONDITIONS = import.meta.url.endsWith('.ts') ? ['pipekit-source'] : [];
const RESOLVING = Symbol('resolving');

/**
 * Compiles a block file — TypeScript or JavaScript — and the project files it imports by
 * relative path into one ES module, with every package import resolved to the absolute file
 * Node would load. The module can then live anywhere (the block cache) and be imported with no
 * loader hook: on Node 20 a hook runs on a thread of its own, which cost every run ~0.2 CPU-s.
 *
 * Each project file keeps its own `import.meta.url`, `dirname` and `filename`, so a block that
 * reads a file beside itself still finds it. esbuild only strips types; `tsc` checks them.
 */
export async function compileBlock(file: string): Promise<CompiledBlock> {
  const { build, transform } = await import('esbuild');
  const packages: Plugin = {
    name: 'pipekit-block',
    setup(esbuild) {
      esbuild.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData === RESOLVING || isAbsoluteSpecifier(args.path)) return undefined;
        if (isBuiltin(args.path)) return { path: args.path, external: true };
        // One Arrow per process, whichever copy the project's node_modules holds: tables pass
        // between blocks and the engine only as instances of the same classes.
        if (args.path === 'apache-arrow') return { path: ARROW_MODULE_URL, external: true };
        const found = await esbuild.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: RESOLVING });
        if (found.errors.length > 0) {
          if (args.path === 'pipekit') return { path: RUNNING_PIPEKIT, external: true };
          return { errors: found.errors };
        }
        // A project's own TypeScript behind a package.json "imports" alias (#lib/…) is bundled:
        // Node could not load it from the cache.
        if (!found.path.includes('/node_modules/') && /\.[cm]?tsx?$/.test(found.path)) return { path: found.path };
        return { path: pathToFileURL(found.path).href, external: true };
      });
      // A project file's own location, which bundling would otherwise make the cached module's.
      esbuild.onLoad({ filter: /\.[cm]?[jt]sx?$/ }, async (args) => {
        if (args.path.includes('/node_modules/')) return undefined;
        const source = await readFile(args.path, 'utf8');
        const loader = /\.[cm]?tsx?$/.test(args.path) ? (args.path.endsWith('x') ? 'tsx' : 'ts') : args.path.endsWith('x') ? 'jsx' : 'js';
        try {
          const located = await transform(source, {
            loader,
            format: 'esm',
            sourcefile: args.path,
            sourcemap: 'inline',
            define: {
              'import.meta.url': JSON.stringify(pathToFileURL(args.path).href),
              'import.meta.filename': JSON.stringify(args.path),
              'import.meta.dirname': JSON.stringify(dirname(args.path)),
            },
          });
          return { contents: located.code, loader: 'js', resolveDir: dirname(args.path) };
        } catch (error) {
          // Reported where the file is wrong, not where it is imported.
          const errors = (error as { errors?: PartialMessage[] }).errors;
          if (errors) return { errors };
          throw error;
        }
      });
    },
  };
  try {
    const result = await build({
      entryPoints: [file],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // Node's own resolution: "main" only, the import and node conditions (esbuild adds those).
      mainFields: ['main'],
      conditions: CONDITIONS,
      sourcemap: 'inline',
      metafile: true,
      logLevel: 'silent',
      plugins: [packages],
    });
    const cwd = process.cwd();
    return {
      code: result.outputFiles[0]!.text,
      inputs: Object.keys(result.metafile.inputs).map((input) => resolve(cwd, input)),
    };
  } catch (error) {
    throw compileError(file, error);
  }
}

/** `file:` URLs and Windows drive paths are paths, not packages. */
function isAbsoluteSpecifier(specifier: string): boolean {
  return specifier.startsWith('file:') || /^[a-zA-Z]:[\\/]/.test(specifier);
}

/** esbuild's first message as pipekit says a file is wrong: file, line and column, and the text. */
function compileError(file: string, error: unknown): ConfigError {
  const messages = (error as { errors?: { text: string; location?: { file: string; line: number; column: number } | null }[] }).errors;
  const first = messages?.[0];
  if (!first) return new ConfigError({ file, message: `could not be compiled: ${(error as Error).message}`, cause: error });
  const where = first.location;
  const at = where
    ? `${resolve(where.file.startsWith('file:') ? fileURLToPath(where.file) : where.file)}:${where.line}:${where.column + 1}`
    : file;
  const more = messages.length > 1 ? ` (and ${messages.length - 1} more)` : '';
  return new ConfigError({
    file: at,
    message: `${first.text}${more}`,
    hint: at === file ? 'fix the block file; `pipekit validate` checks every block' : `fix it; ${file} imports it`,
  });
}
