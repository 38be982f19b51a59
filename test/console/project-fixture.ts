import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { openSession, type Session } from '../../src/engine/session.ts';
import { createTestDatabase, type TestDatabase } from '../support/postgres.ts';

const DEFINE = resolve(import.meta.dirname, '../../src/blocks/define.ts');

/** A block file: `kind`, and the body of `async (…args, ctx) => { body }`. */
export interface FixtureBlock {
  readonly uuid: string;
  readonly kind: 'loader' | 'transformer' | 'exporter';
  readonly upstream?: readonly string[];
  readonly params: string;
  readonly body: string;
}

export interface FixturePipeline {
  readonly blocks: readonly FixtureBlock[];
  readonly triggers?: readonly Record<string, unknown>[];
  readonly variables?: Record<string, unknown>;
}

export interface TempProject {
  readonly root: string;
  readonly db: TestDatabase;
  open(): Promise<Session>;
  dispose(): Promise<void>;
}

/**
 * A throwaway project folder with its own database in the suite's
 * PostgreSQL: io_config.yaml (profile `local`) plus one folder per pipeline
 * with pipeline.yaml and its TypeScript block files.
 */
export async function createTempProject(name: string, pipelines: Record<string, FixturePipeline>): Promise<TempProject> {
  const root = mkdtempSync(join(tmpdir(), `pipekit-${name}-`));
  const db = await createTestDatabase(name);
  const local = {
    ...db.profileValues,
    LAKE_URI: join(root, '.pipekit/lake'),
    DUCKDB_PATH: join(root, '.pipekit/warehouse.duckdb'),
    WORKSPACE_URI: join(root, '.pipekit/workspace'),
  };
  writeFileSync(join(root, 'io_config.yaml'), stringify({ version: 1, local }));
  for (const [pipeline, spec] of Object.entries(pipelines)) {
    mkdirSync(join(root, pipeline), { recursive: true });
    for (const b of spec.blocks) {
      writeFileSync(
        join(root, pipeline, `${b.uuid}.ts`),
        `import { ${b.kind} } from ${JSON.stringify(DEFINE)};\nexport default ${b.kind}(async (${b.params}) => {\n${b.body}\n});\n`,
      );
    }
    const yaml = {
      blocks: spec.blocks.map((b) => ({
        uuid: b.uuid,
        kind: b.kind,
        file: `${pipeline}/${b.uuid}.ts`,
        ...(b.upstream ? { upstream: b.upstream } : {}),
      })),
      ...(spec.variables ? { variables: spec.variables } : {}),
      ...(spec.triggers ? { triggers: spec.triggers } : {}),
    };
    writeFileSync(join(root, pipeline, 'pipeline.yaml'), stringify(yaml));
  }
  return {
    root,
    db,
    open: () => openSession({ projectRoot: root, profile: 'local', env: {} }),
    async dispose() {
      await db.drop();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** loader → transformer → exporter, each a few milliseconds, JSON outputs. */
export const TINY_PIPELINE: FixturePipeline = {
  variables: { greeting: 'hello' },
  blocks: [
    {
      uuid: 'load_numbers',
      kind: 'loader',
      params: 'ctx',
      body: "const delay = Number(ctx.variables.delay_ms ?? 0); if (delay) await new Promise((r) => setTimeout(r, delay)); ctx.log.info('loading numbers for ' + ctx.ds); return [1, 2, 3].map((n) => ({ n, greeting: String(ctx.variables.greeting) }));",
    },
    {
      uuid: 'double_them',
      kind: 'transformer',
      upstream: ['load_numbers'],
      params: 'rows, ctx',
      body: "ctx.log.info('doubling ' + rows.length + ' rows'); return rows.map((r) => ({ ...r, doubled: r.n * 2 }));",
    },
    {
      uuid: 'export_them',
      kind: 'exporter',
      upstream: ['double_them'],
      params: 'rows, ctx',
      body: "ctx.log.info('exported ' + rows.length + ' rows'); return { rows: rows.length };",
    },
  ],
};
