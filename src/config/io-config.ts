import { dirname, resolve } from 'node:path';
import { keepDerived, projectCachePath, readDerived } from '../cache/derived-file.ts';
import { ConfigError } from '../errors.ts';
import { checkProfileKeys } from './io-config-keys.ts';
import { IoProfile } from './io-profile.ts';
import { createFileSecretSource } from './secrets/file-secrets.ts';
import type { SecretSource } from './secrets/secret-source.ts';
import { renderTemplate, TemplateError } from './template.ts';

export const DEFAULT_PROFILE = 'local';
/** Bump when what readIoConfigFile returns changes shape. */
const IO_CONFIG_FORMAT = 'io-config/1';

export interface LoadProfileOptions {
  /** `--profile`, else `PIPEKIT_PROFILE`, else `local`. */
  readonly profile?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Overrides how `{{ secret('x') }}` is resolved (tests, the cloud). */
  readonly secrets?: SecretSource;
}

/** Which profile a command uses: the flag, then PIPEKIT_PROFILE, then `local`. */
export function chooseProfile(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.PIPEKIT_PROFILE ?? DEFAULT_PROFILE;
}

/**
 * Reads one profile of io_config.yaml and renders its templates.
 *
 * Only the chosen profile is rendered (Mage renders the whole file, so a
 * cloud profile's secret lookups would run on a laptop); every failure names
 * the file, the profile and the key.
 */
export async function loadIoProfile(file: string, options: LoadProfileOptions = {}): Promise<IoProfile> {
  const env = options.env ?? process.env;
  const name = chooseProfile(options.profile, env);
  const raw = await readIoConfig(file);
  const section = raw[name];
  if (section === undefined) {
    const known = Object.keys(raw).filter((k) => k !== 'version');
    throw new ConfigError({
      file,
      key: name,
      message: `there is no profile "${name}"`,
      hint: `use one of: ${known.join(', ') || '(none)'} — with --profile or PIPEKIT_PROFILE — or add a "${name}:" section`,
    });
  }
  if (section === null || typeof section !== 'object' || Array.isArray(section)) {
    throw new ConfigError({ file, key: name, message: 'a profile must be a mapping of KEY: value' });
  }
  checkProfileKeys(section as Record<string, unknown>, file, name);
  const root = dirname(resolve(file));
  const secrets = options.secrets ?? defaultSecretSource(section as Record<string, unknown>, root, env);
  const values = await renderProfile(section as Record<string, unknown>, { file, profile: name, env, secrets });
  return new IoProfile({ name, file, root, values });
}

/**
 * io_config.yaml as parsed, kept in `.pipekit/cache/io_config.json` (mode 600: it may hold
 * passwords written in plain text) until the file changes, so a run does not load the YAML
 * parser. Templates are rendered from it on every load, never kept.
 */
export async function readIoConfig(file: string): Promise<Record<string, unknown>> {
  const cache = projectCachePath(dirname(resolve(file)), 'io_config.json');
  const kept = readDerived<Record<string, unknown>>(cache, IO_CONFIG_FORMAT);
  if (kept) return kept;
  const startedAt = Date.now();
  const { readIoConfigFile } = await import('./io-config-file.ts');
  const parsed = readIoConfigFile(file);
  keepDerived(cache, IO_CONFIG_FORMAT, [file], parsed, startedAt, { mode: 0o600 });
  return parsed;
}

function defaultSecretSource(section: Record<string, unknown>, root: string, env: NodeJS.ProcessEnv): SecretSource {
  const source = String(section.SECRETS_SOURCE ?? 'file');
  if (source === 'secret-manager') {
    return lazySecretManager(String(section.GOOGLE_PROJECT_ID ?? env.GOOGLE_CLOUD_PROJECT ?? ''));
  }
  const file = env.PIPEKIT_SECRETS_FILE ?? resolve(root, String(section.SECRETS_FILE ?? '.pipekit/secrets.env'));
  return createFileSecretSource(resolve(root, file));
}

/** Secret Manager is loaded only when a profile uses it, so laptops never load the client. */
function lazySecretManager(projectTemplate: string): SecretSource {
  let source: Promise<SecretSource> | undefined;
  return {
    description: 'Secret Manager',
    async get(name) {
      source ??= import('./secrets/secret-manager.ts').then((m) =>
        m.createSecretManagerSource({ projectId: projectTemplate.includes('{{') ? undefined : projectTemplate || undefined }),
      );
      return (await source).get(name);
    },
  };
}

interface RenderContext {
  readonly file: string;
  readonly profile: string;
  readonly env: NodeJS.ProcessEnv;
  readonly secrets: SecretSource;
}

const SECRET_CALL = /secret\(\s*(['"])([^'"]+)\1\s*\)/g;

async function renderProfile(section: Record<string, unknown>, ctx: RenderContext): Promise<Record<string, unknown>> {
  // Secrets are fetched up front (async), then templates render synchronously.
  const secretValues = new Map<string, string>();
  for (const [key, value] of Object.entries(section)) {
    if (typeof value !== 'string') continue;
    for (const m of value.matchAll(SECRET_CALL)) {
      const name = m[2]!;
      if (secretValues.has(name)) continue;
      try {
        secretValues.set(name, await ctx.secrets.get(name));
      } catch (error) {
        if (error instanceof ConfigError) throw error;
        throw new ConfigError({
          file: ctx.file,
          key: `${ctx.profile}.${key}`,
          message: `secret "${name}" could not be read from ${ctx.secrets.description}: ${(error as Error).message}`,
          cause: error,
        });
      }
    }
  }

  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(section)) {
    out[key] = typeof value === 'string' ? renderValue(value, key, ctx, secretValues) : value;
  }
  return out;
}

function renderValue(value: string, key: string, ctx: RenderContext, secrets: Map<string, string>): string {
  try {
    return renderTemplate(value, {
      functions: {
        env_var: (name, fallback) => {
          const v = ctx.env[String(name)];
          if (v !== undefined) return v;
          if (fallback !== undefined) return fallback;
          throw new ConfigError({
            file: ctx.file,
            key: `${ctx.profile}.${key}`,
            message: `environment variable ${String(name)} is not set`,
            hint: `export ${String(name)}=…, or give a default: {{ env_var('${String(name)}', 'value') }}`,
          });
        },
        secret: (name) => secrets.get(String(name)),
      },
    });
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    if (error instanceof TemplateError) {
      throw new ConfigError({ file: ctx.file, key: `${ctx.profile}.${key}`, message: error.message });
    }
    throw error;
  }
}
