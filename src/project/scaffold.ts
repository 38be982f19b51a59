import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { ConfigError } from '../errors.ts';
import { writeTitanicSample } from '../samples/titanic.ts';
import { pipekitPackage, type PipekitPackage } from './package-root.ts';

/** Files whose `__NAME__` and `__PIPEKIT__` are filled in when a project is made. */
const FILLED = ['package.json', 'Pulumi.yaml'];

export interface ScaffoldResult {
  readonly root: string;
  readonly name: string;
  /** How the project's package.json depends on pipekit. */
  readonly pipekitSpec: string;
  readonly files: readonly string[];
}

/**
 * Makes a project of one's own from templates/project: io_config.yaml with the
 * local, dev and cloud profiles, the `example` pipeline and its blocks, the
 * Titanic sample it reads offline, a package.json depending on pipekit and a
 * Pulumi program deploying this folder through pipekit's components.
 */
export async function scaffoldProject(folder: string, options: { pipekit?: string; cwd?: string } = {}): Promise<ScaffoldResult> {
  const root = resolve(options.cwd ?? process.cwd(), folder);
  if (existsSync(root) && readdirSync(root).length > 0) {
    throw new ConfigError({
      file: root,
      message: 'is not empty',
      hint: 'pick a new folder name, or empty this one; pipekit init never overwrites files',
    });
  }
  const name = packageName(basename(root));
  const pkg = pipekitPackage();
  const pipekitSpec = options.pipekit ?? dependencySpec(pkg);
  mkdirSync(root, { recursive: true });
  cpSync(join(pkg.root, 'templates', 'project'), root, { recursive: true });
  // npm leaves .gitignore files out of packages, so the template's is called `gitignore`.
  renameSync(join(root, 'gitignore'), join(root, '.gitignore'));
  for (const file of FILLED) {
    const path = join(root, file);
    writeFileSync(path, readFileSync(path, 'utf8').replaceAll('__NAME__', name).replaceAll('__PIPEKIT__', pipekitSpec));
  }
  addDeployTools(join(root, 'package.json'), pkg);
  await writeTitanicSample(join(root, 'data', 'titanic.csv'));
  return { root, name, pipekitSpec, files: listFiles(root) };
}

/**
 * What `pulumi up` needs in the project, at the ranges pipekit itself is
 * tested with: the Pulumi SDKs its infra/ imports, and tsx, which Pulumi.yaml's
 * `--import tsx` loads the TypeScript program with.
 */
const DEPLOY_TOOLS = ['@pulumi/pulumi', '@pulumi/gcp', '@pulumi/random', '@pulumi/command', 'tsx'];

function addDeployTools(manifest: string, pkg: PipekitPackage): void {
  const json = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
  json.devDependencies = Object.fromEntries(DEPLOY_TOOLS.filter((name) => pkg.ranges[name]).map((name) => [name, pkg.ranges[name]!]));
  writeFileSync(manifest, `${JSON.stringify(json, null, 2)}\n`);
}

/** npm's rules: lower case, no spaces, at most 214 characters. */
function packageName(folder: string): string {
  const name = folder
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[._-]+/, '')
    .slice(0, 214);
  return name || 'pipelines';
}

/**
 * The new project depends on pipekit the way this pipekit was installed: a
 * checkout is linked by path; an installed copy reuses the spec of the project
 * that installed it (a tarball or folder made absolute); otherwise the
 * published version range.
 */
export function dependencySpec(pkg: PipekitPackage): string {
  const parts = pkg.root.split(sep);
  const at = parts.lastIndexOf('node_modules');
  if (at < 0) return `file:${pkg.root}`;
  const installer = parts.slice(0, at).join(sep) || sep;
  const manifest = join(installer, 'package.json');
  if (existsSync(manifest)) {
    const json = JSON.parse(readFileSync(manifest, 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const spec = json.dependencies?.pipekit ?? json.devDependencies?.pipekit;
    if (spec?.startsWith('file:')) {
      const target = spec.slice('file:'.length);
      return `file:${isAbsolute(target) ? target : resolve(installer, target)}`;
    }
    if (spec) return spec;
  }
  return `^${pkg.version}`;
}

function listFiles(root: string, dir = root): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? listFiles(root, path) : [relative(root, path)];
    })
    .sort();
}
