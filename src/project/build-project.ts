import { existsSync, readdirSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { assertValidSchedule, assertValidTimezone } from '../time/schedule.ts';
import { findCycle } from './dag.ts';
import { parseDuration } from './duration.ts';
import {
  DEFAULT_RESOURCES,
  DEFAULT_RETRY,
  type BlockKind,
  type BlockSpec,
  type PipelineSpec,
  type Project,
  type RetryPolicy,
  type Trigger,
} from './model.ts';
import type { RawBlock, RawPipeline, RawRetry } from './pipeline-schema.ts';

export const PIPELINE_FILE = 'pipeline.yaml';
export const IO_CONFIG_FILE = 'io_config.yaml';

export interface BuildProjectOptions {
  /**
   * Read only these pipelines (a run or a backfill needs one): a broken pipeline.yaml elsewhere
   * does not stop them, nor does a large project make them slow to start. Names that have no
   * pipeline.yaml are left out, as `session.pipeline(name)` then says. Default: every pipeline.
   */
  readonly only?: readonly string[];
  /** pipeline.yaml as parsed and checked against the schema (pipeline-yaml.ts, or a cached copy). */
  readonly read: (file: string) => RawPipeline;
}

/**
 * The project from every `<root>/<name>/pipeline.yaml` (or those `only` names), each parsed by
 * `read`; what the schema cannot say is checked here, every time, cache or not. Synchronous
 * and free of side effects (block modules are not imported). load-project.ts and
 * open-project.ts are the two ways in.
 *
 * Every problem is a ConfigError naming the file and the key: missing block files, unknown
 * upstreams, duplicate uuids, cycles, invalid schedules and time zones.
 */
export function buildProject(root: string, options: BuildProjectOptions): Project {
  const absRoot = resolve(root);
  if (!existsSync(absRoot) || !statSync(absRoot).isDirectory()) {
    throw new ConfigError({
      file: absRoot,
      message: 'the project folder does not exist',
      hint: 'pass --project <folder holding io_config.yaml>',
    });
  }
  const pipelines = new Map<string, PipelineSpec>();
  const names = options.only ?? pipelineNames(absRoot);
  for (const name of names) {
    const file = join(absRoot, name, PIPELINE_FILE);
    // A name is a folder of the project, never a path out of it.
    if (name.includes('/') || name.includes('\\') || name.startsWith('.') || !existsSync(file)) continue;
    pipelines.set(name, loadPipeline(absRoot, name, file, options.read(file)));
  }
  return { root: absRoot, ioConfigFile: join(absRoot, IO_CONFIG_FILE), pipelines };
}

/** The folders of `root` holding a pipeline.yaml, sorted: the project's pipelines, unread. */
export function pipelineNames(root: string): string[] {
  return readdirSync(root, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(root, entry.name, PIPELINE_FILE)))
    .map((entry) => entry.name)
    .sort((a, b) => a.localeCompare(b));
}

/** One pipeline from its parsed pipeline.yaml; `name` is its folder name. */
function loadPipeline(root: string, name: string, file: string, raw: RawPipeline): PipelineSpec {
  if (raw.name !== undefined && raw.name !== name) {
    throw new ConfigError({
      file,
      key: 'name',
      message: `says "${raw.name}" but the folder is "${name}"`,
      hint: 'a pipeline is named after its folder: rename the folder or drop the name key',
    });
  }
  const pipelineRetry = toRetry(raw.retry, DEFAULT_RETRY);
  const defaultTimeout = raw.timeout === undefined ? undefined : duration(file, 'timeout', raw.timeout);

  const seen = new Set<string>();
  const blocks = raw.blocks.map((block, i) => {
    const key = `blocks[${i}]`;
    if (seen.has(block.uuid)) {
      throw new ConfigError({
        file,
        key: `${key}.uuid`,
        message: `duplicate block uuid "${block.uuid}"`,
        hint: 'give every block of a pipeline its own uuid',
      });
    }
    seen.add(block.uuid);
    return toBlock(root, file, key, block, pipelineRetry, defaultTimeout);
  });

  blocks.forEach((block, i) => {
    block.upstream.forEach((up, j) => {
      if (!seen.has(up)) {
        throw new ConfigError({
          file,
          key: `blocks[${i}].upstream[${j}]`,
          message: `block "${block.uuid}" names unknown upstream "${up}"`,
          hint: `upstream must be one of: ${[...seen].join(', ')}`,
        });
      }
      if (up === block.uuid) {
        throw new ConfigError({ file, key: `blocks[${i}].upstream[${j}]`, message: `block "${block.uuid}" names itself as upstream` });
      }
    });
  });
  const cycle = findCycle(blocks);
  if (cycle) {
    throw new ConfigError({
      file,
      key: 'blocks',
      message: `the blocks form a cycle: ${cycle.join(' → ')}`,
      hint: 'a pipeline is a DAG: remove one of these upstream links',
    });
  }

  const triggers = (raw.triggers ?? []).map((t, i) => toTrigger(file, `triggers[${i}]`, t));
  const names = new Set<string>();
  triggers.forEach((t, i) => {
    if (names.has(t.name)) throw new ConfigError({ file, key: `triggers[${i}].name`, message: `duplicate trigger name "${t.name}"` });
    names.add(t.name);
  });

  const r = raw.resources ?? {};
  return Object.freeze({
    name,
    description: raw.description,
    file,
    blocks: Object.freeze(blocks),
    variables: Object.freeze({ ...(raw.variables ?? {}) }),
    profileVariables: Object.freeze(
      Object.fromEntries(Object.entries(raw.profiles ?? {}).map(([p, v]) => [p, Object.freeze({ ...(v.variables ?? {}) })])),
    ),
    triggers: Object.freeze(triggers),
    retry: pipelineRetry,
    concurrency: raw.concurrency ?? 4,
    resources: Object.freeze({
      cpu: r.cpu === undefined ? DEFAULT_RESOURCES.cpu : String(r.cpu),
      memory: r.memory ?? DEFAULT_RESOURCES.memory,
      taskTimeoutMs:
        r.task_timeout === undefined ? DEFAULT_RESOURCES.taskTimeoutMs : duration(file, 'resources.task_timeout', r.task_timeout),
      parallelism: r.parallelism ?? DEFAULT_RESOURCES.parallelism,
      maxRetries: r.max_retries ?? DEFAULT_RESOURCES.maxRetries,
    }),
    tags: Object.freeze([...(raw.tags ?? [])]),
  });
}

function toBlock(
  root: string,
  file: string,
  key: string,
  raw: RawBlock,
  pipelineRetry: RetryPolicy,
  defaultTimeout: number | undefined,
): BlockSpec {
  const path = resolve(root, raw.file);
  if (!existsSync(path)) {
    throw new ConfigError({
      file,
      key: `${key}.file`,
      message: `block file ${raw.file} does not exist (looked for ${path})`,
      hint: `block files are relative to the project folder ${root}; create it with: pipekit new block ${raw.uuid} --kind ${raw.kind}`,
    });
  }
  const ext = extname(path).toLowerCase();
  const language = ext === '.sql' ? 'sql' : ['.ts', '.mts', '.js', '.mjs'].includes(ext) ? 'typescript' : undefined;
  if (!language) {
    throw new ConfigError({ file, key: `${key}.file`, message: `${raw.file}: a block file is .ts, .js or .sql` });
  }
  if (raw.sql && language !== 'sql') {
    throw new ConfigError({ file, key: `${key}.sql`, message: 'only .sql blocks take sql settings' });
  }
  if (raw.sql?.partition && !raw.sql.table) {
    throw new ConfigError({
      file,
      key: `${key}.sql.partition`,
      message: 'replaces rows of the result table, but the block names no table',
      hint: 'add table: <name> under sql:',
    });
  }
  if (raw.sql?.partition && raw.sql.write && raw.sql.write !== 'replace') {
    throw new ConfigError({
      file,
      key: `${key}.sql.partition`,
      message: `replaces the run's rows, which write: ${raw.sql.write} contradicts`,
      hint: 'leave write: out (or write: replace) with partition:',
    });
  }
  if (raw.sql?.schema && raw.sql?.dataset && raw.sql.schema !== raw.sql.dataset) {
    throw new ConfigError({ file, key: `${key}.sql`, message: 'give schema or dataset, not both' });
  }
  return Object.freeze({
    uuid: raw.uuid,
    kind: raw.kind as BlockKind,
    file: relative(root, path),
    path,
    language,
    upstream: Object.freeze([...(raw.upstream ?? [])]),
    retry: toRetry(raw.retry, pipelineRetry, file, `${key}.retry`),
    timeoutMs: raw.timeout === undefined ? defaultTimeout : duration(file, `${key}.timeout`, raw.timeout),
    sql:
      language === 'sql'
        ? Object.freeze({
            connection: raw.sql?.connection ?? 'warehouse',
            schema: raw.sql?.schema ?? raw.sql?.dataset,
            table: raw.sql?.table,
            // Mage's default export_write_policy for SQL blocks.
            write: raw.sql?.write ?? (raw.sql?.partition ? 'replace' : 'append'),
            partition: raw.sql?.partition,
          })
        : undefined,
    description: raw.description,
  });
}

function toRetry(raw: RawRetry | undefined, base: RetryPolicy, file = '', key = 'retry'): RetryPolicy {
  if (!raw) return base;
  return Object.freeze({
    attempts: raw.attempts ?? base.attempts,
    delayMs: raw.delay === undefined ? base.delayMs : duration(file, `${key}.delay`, raw.delay),
    backoff: raw.backoff ?? base.backoff,
    maxDelayMs: raw.max_delay === undefined ? base.maxDelayMs : duration(file, `${key}.max_delay`, raw.max_delay),
  });
}

function toTrigger(file: string, key: string, raw: NonNullable<RawPipeline['triggers']>[number]): Trigger {
  const common = {
    name: raw.name,
    variables: Object.freeze({ ...(raw.variables ?? {}) }),
    enabled: raw.enabled ?? true,
    description: raw.description,
  };
  if ('schedule' in raw) {
    const timezone = raw.timezone ?? 'UTC';
    try {
      assertValidTimezone(timezone);
    } catch (error) {
      throw new ConfigError({ file, key: `${key}.timezone`, message: (error as Error).message });
    }
    try {
      assertValidSchedule(raw.schedule, timezone);
    } catch (error) {
      throw new ConfigError({ file, key: `${key}.schedule`, message: (error as Error).message });
    }
    return Object.freeze({ type: 'schedule', schedule: raw.schedule, timezone, ...common });
  }
  if ('gcs' in raw) {
    return Object.freeze({ type: 'gcs', bucket: raw.gcs.bucket, prefix: raw.gcs.prefix ?? '', ...common });
  }
  return Object.freeze({ type: 'api', ...common });
}

function duration(file: string, key: string, value: string | number): number {
  try {
    return parseDuration(value);
  } catch (error) {
    throw new ConfigError({ file, key, message: (error as Error).message });
  }
}
