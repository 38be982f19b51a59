import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface PipekitPackage {
  /** The folder holding pipekit's package.json: a checkout, or node_modules/pipekit. */
  readonly root: string;
  readonly version: string;
  /** Every dependency range pipekit declares (dependencies and devDependencies). */
  readonly ranges: Readonly<Record<string, string>>;
}

/** pipekit's own package, found from this file (src/ or a compiled dist/ alike). */
export function pipekitPackage(from = dirname(fileURLToPath(import.meta.url))): PipekitPackage {
  for (let dir = from; ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as {
        name?: string;
        version?: string;
        dependencies?: Record<string, string>;
        devDependencies?: Record<string, string>;
      };
      if (pkg.name === 'pipekit')
        return { root: dir, version: pkg.version ?? '0.0.0', ranges: { ...pkg.devDependencies, ...pkg.dependencies } };
    }
    if (dirname(dir) === dir) throw new Error(`pipekit's package.json was not found above ${from}`);
  }
}
