import { register } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipekitPackage } from '../project/package-root.ts';

/**
 * Module hooks that let a project live anywhere (`--project`, `pipekit init`):
 *
 * - `import … from 'pipekit'` that the project cannot resolve itself (no
 *   node_modules, a checkout run with `--project`) resolves to the pipekit
 *   that is running, through the package's own exports, as pipekit's files do;
 * - a `.ts` block in a folder with no package.json "type" is an ES module,
 *   as blocks are written (`export default loader(…)`), instead of CommonJS,
 *   which fails with "Cannot require() ES Module … in a cycle".
 *
 * A project that resolves 'pipekit' itself (its own node_modules) keeps its copy.
 */
const HOOKS = `
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PIPEKIT = __PIPEKIT__;
const typeOfFolder = new Map();

function packageType(dir) {
  if (typeOfFolder.has(dir)) return typeOfFolder.get(dir);
  const file = join(dir, 'package.json');
  const parent = dirname(dir);
  const type = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')).type ?? null) : parent === dir ? null : packageType(parent);
  typeOfFolder.set(dir, type);
  return type;
}

export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const ours = specifier === 'pipekit' || specifier.startsWith('pipekit/');
    if (!ours || error?.code !== 'ERR_MODULE_NOT_FOUND') throw error;
    return next(specifier, { ...context, parentURL: PIPEKIT });
  }
}

export async function load(url, context, next) {
  if (url.startsWith('file:') && /\\.tsx?$/.test(url) && !url.includes('/node_modules/') && packageType(dirname(fileURLToPath(url))) === null) {
    return next(url, { ...context, format: 'module' });
  }
  return next(url, context);
}
`;

let registered = false;

/** Registers the hooks once, after the TypeScript loader, so that they see its imports first. */
export function ensureProjectModules(): void {
  if (registered) return;
  registered = true;
  const pipekit = pathToFileURL(join(pipekitPackage().root, 'package.json')).href;
  register(`data:text/javascript,${encodeURIComponent(HOOKS.replace('__PIPEKIT__', JSON.stringify(pipekit)))}`);
}
