import { tableFromArrays } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { BlockContext } from '../../src/blocks/context.ts';
import { runSqlBlock } from '../../src/engine/sql-block.ts';
import { ConfigError } from '../../src/errors.ts';
import type { Warehouse, WarehouseTarget } from '../../src/io/types.ts';
import type { BlockSpec } from '../../src/project/model.ts';

/** A warehouse that records the target of each write. */
function recordingWarehouse(kind: Warehouse['kind'], defaultDataset: string | undefined) {
  const targets: WarehouseTarget[] = [];
  const warehouse = {
    kind,
    defaultDataset,
    writeSql: async (_sql: string, _inputs: unknown, target: WarehouseTarget) => {
      targets.push(target);
      return { rows: 1, target: `${target.dataset}.${target.table}` };
    },
  } as unknown as Warehouse;
  return { warehouse, targets };
}

const spec = (sql: Partial<NonNullable<BlockSpec['sql']>>) =>
  ({ uuid: 'write_trips', kind: 'exporter', language: 'sql', upstream: ['df_1'], sql }) as unknown as BlockSpec;
const ctx = (warehouse: Warehouse) =>
  ({ pipeline: 'gcs_to_bigquery', env: 'cloud', variables: {}, io: { warehouse: async () => warehouse } }) as unknown as BlockContext;
const inputs = new Map([['df_1', tableFromArrays({ a: Int32Array.from([1]) })]]);

describe('SQL block targets', () => {
  it('a table without a dataset goes to the warehouse default: DuckDB main, BigQuery BIGQUERY_DATASET', async () => {
    for (const [kind, fallback] of [
      ['duckdb', 'main'],
      ['bigquery', 'ny_taxi'],
    ] as const) {
      const { warehouse, targets } = recordingWarehouse(kind, fallback);
      await runSqlBlock('SELECT * FROM {{ df_1 }}', inputs, spec({ connection: 'warehouse', table: 'trips' }), ctx(warehouse));
      expect(targets).toEqual([{ dataset: fallback, table: 'trips', ifExists: undefined }]);
    }
  });

  it("the block's own dataset wins", async () => {
    const { warehouse, targets } = recordingWarehouse('bigquery', 'ny_taxi');
    await runSqlBlock(
      'SELECT * FROM {{ df_1 }}',
      inputs,
      spec({ connection: 'warehouse', schema: 'staging', table: 'trips', write: 'append' }),
      ctx(warehouse),
    );
    expect(targets).toEqual([{ dataset: 'staging', table: 'trips', ifExists: 'append' }]);
  });

  it('BigQuery with neither is a ConfigError naming the block and both ways to fix it', async () => {
    const { warehouse, targets } = recordingWarehouse('bigquery', undefined);
    const error = await runSqlBlock('SELECT 1', inputs, spec({ connection: 'warehouse', table: 'trips' }), ctx(warehouse)).catch((e) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/write_trips\.sql\.dataset.*names no dataset.*BIGQUERY_DATASET is not set in the cloud profile/s);
    expect(error.hint).toMatch(/dataset: <name>.*BIGQUERY_DATASET/);
    expect(targets).toEqual([]);
  });

  it('a postgres block goes through the same seam: ctx.io.postgres() with POSTGRES_SCHEMA as its default; non-exporters get the rows', async () => {
    const calls: string[] = [];
    const result = tableFromArrays({ n: Int32Array.from([3]) });
    const postgres = {
      defaultDataset: 'public',
      runSql: async (_sql: string, names: Record<string, unknown>, target?: WarehouseTarget) => (
        calls.push(`runSql ${Object.keys(names)} ${JSON.stringify(target)}`), result
      ),
      writeSql: async () => (calls.push('writeSql'), { rows: 3, target: 'pg' }),
    };
    const loader = { ...spec({ connection: 'postgres', table: 'daily_counts' }), kind: 'loader' } as BlockSpec;
    const out = await runSqlBlock('SELECT count(*) FROM {{ df_1 }}', inputs, loader, {
      ...ctx(undefined as never),
      io: { postgres: async () => postgres },
    } as unknown as BlockContext);
    expect(out).toBe(result);
    expect(calls).toEqual(['runSql df_1 {"dataset":"public","table":"daily_counts"}']);
  });
});
