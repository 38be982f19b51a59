import type pg from 'pg';
import type {
  BackfillRecord,
  BlockRunRecord,
  LogRecord,
  RunFilter,
  RunRecord,
} from './model.ts';
import { storableJson, storableText } from './safe-text.ts';
import { RUN_STORE_SCHEMA_SQL } from './schema.ts';
import type { BlockRunPatch, NewRun, RunPatch, RunStore } from './store.ts';

/**
 * The run store on PostgreSQL (embedded on a laptop, Cloud SQL in the cloud).
 * Tables live in schema `pipekit`; the schema is created on first use under
 * an advisory lock so parallel backfill tasks do not race.
 */
export async function createPostgresRunStore(pool: pg.Pool): Promise<RunStore> {
  const client = await pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock(7242001)');
    try {
      await client.query(RUN_STORE_SCHEMA_SQL);
    } finally {
      await client.query('SELECT pg_advisory_unlock(7242001)');
    }
  } finally {
    client.release();
  }
  return new PostgresRunStore(pool);
}

const RUN_COLUMNS: Record<keyof RunPatch, string> = {
  status: 'status',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  error: 'error',
};

const BLOCK_COLUMNS: Record<keyof BlockRunPatch, string> = {
  status: 'status',
  attempts: 'attempts',
  startedAt: 'started_at',
  finishedAt: 'finished_at',
  rowsOut: 'rows_out',
  error: 'error',
  outputUri: 'output_uri',
  reusedFrom: 'reused_from',
};

class PostgresRunStore implements RunStore {
  constructor(private readonly pool: pg.Pool) {}

  async createRun(run: NewRun, blocks: readonly string[]): Promise<RunRecord | null> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const inserted = await client.query(
        `INSERT INTO pipekit.runs (id, pipeline, trigger, execution_date, interval_start, interval_end, profile,
           variables, status, backfill_id, resumed_from, dedupe_key)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'queued',$9,$10,$11)
         ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
         RETURNING *`,
        [
          run.id, run.pipeline, run.trigger, run.executionDate, run.intervalStart, run.intervalEnd, run.profile,
          storableJson(run.variables), run.backfillId, run.resumedFrom, run.dedupeKey,
        ],
      );
      if (inserted.rowCount === 0) {
        await client.query('ROLLBACK');
        return null;
      }
      if (blocks.length > 0) {
        await client.query(
          `INSERT INTO pipekit.block_runs (run_id, block, status, position)
           SELECT $1, b, 'queued', ord FROM unnest($2::text[]) WITH ORDINALITY AS t(b, ord)`,
          [run.id, blocks],
        );
      }
      await client.query('COMMIT');
      return toRun(inserted.rows[0]);
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    const { sets, values } = assignments(patch, RUN_COLUMNS);
    if (sets.length === 0) return;
    await this.pool.query(`UPDATE pipekit.runs SET ${sets.join(', ')} WHERE id = $${values.length + 1}`, [...values, id]);
  }

  async updateBlockRun(runId: string, block: string, patch: BlockRunPatch): Promise<void> {
    const { sets, values } = assignments(patch, BLOCK_COLUMNS);
    if (sets.length === 0) return;
    await this.pool.query(
      `UPDATE pipekit.block_runs SET ${sets.join(', ')} WHERE run_id = $${values.length + 1} AND block = $${values.length + 2}`,
      [...values, runId, block],
    );
  }

  async appendLogs(logs: readonly LogRecord[]): Promise<void> {
    if (logs.length === 0) return;
    await this.pool.query(
      `INSERT INTO pipekit.logs (run_id, block, time, severity, message, fields)
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::jsonb[])`,
      [
        logs.map((l) => l.runId),
        logs.map((l) => l.block),
        logs.map((l) => l.time),
        logs.map((l) => l.severity),
        logs.map((l) => storableText(l.message)),
        logs.map((l) => (l.fields ? storableJson(l.fields) : null)),
      ],
    );
  }

  async getRun(id: string): Promise<RunRecord | null> {
    const { rows } = await this.pool.query('SELECT * FROM pipekit.runs WHERE id = $1', [id]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.pipeline) where.push(`pipeline = $${values.push(filter.pipeline)}`);
    if (filter.status) where.push(`status = $${values.push(filter.status)}`);
    if (filter.backfillId) where.push(`backfill_id = $${values.push(filter.backfillId)}`);
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 10_000);
    const { rows } = await this.pool.query(
      `SELECT * FROM pipekit.runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
      values,
    );
    return rows.map(toRun);
  }

  async getBlockRuns(runId: string): Promise<BlockRunRecord[]> {
    const { rows } = await this.pool.query('SELECT * FROM pipekit.block_runs WHERE run_id = $1 ORDER BY position', [runId]);
    return rows.map(toBlockRun);
  }

  async getLogs(runId: string, options: { block?: string; limit?: number } = {}): Promise<LogRecord[]> {
    const values: unknown[] = [runId];
    const blockFilter = options.block ? `AND block = $${values.push(options.block)}` : '';
    const limit = Math.min(Math.max(options.limit ?? 10_000, 1), 100_000);
    const { rows } = await this.pool.query(
      `SELECT * FROM pipekit.logs WHERE run_id = $1 ${blockFilter} ORDER BY time, id LIMIT ${limit}`,
      values,
    );
    return rows.map((r) => ({
      runId: r.run_id,
      block: r.block,
      time: r.time,
      severity: r.severity,
      message: r.message,
      fields: r.fields ?? undefined,
    }));
  }

  async latestOutput(pipeline: string, block: string): Promise<{ runId: string; outputUri: string } | null> {
    const { rows } = await this.pool.query(
      `SELECT b.run_id, b.output_uri FROM pipekit.block_runs b JOIN pipekit.runs r ON r.id = b.run_id
       WHERE r.pipeline = $1 AND b.block = $2 AND b.status = 'succeeded' AND b.output_uri IS NOT NULL
       ORDER BY b.finished_at DESC NULLS LAST LIMIT 1`,
      [pipeline, block],
    );
    return rows[0] ? { runId: rows[0].run_id, outputUri: rows[0].output_uri } : null;
  }

  async latestOutputUris(): Promise<Set<string>> {
    const { rows } = await this.pool.query(
      `SELECT DISTINCT ON (r.pipeline, b.block) b.output_uri FROM pipekit.block_runs b JOIN pipekit.runs r ON r.id = b.run_id
       WHERE b.status = 'succeeded' AND b.output_uri IS NOT NULL
       ORDER BY r.pipeline, b.block, b.finished_at DESC NULLS LAST`,
    );
    return new Set(rows.map((r) => r.output_uri as string));
  }

  async rowsOut(runIds: readonly string[]): Promise<Map<string, number | null>> {
    if (runIds.length === 0) return new Map();
    // A run's "rows" is what its last block with a row count produced.
    const { rows } = await this.pool.query(
      `SELECT DISTINCT ON (run_id) run_id, rows_out FROM pipekit.block_runs
       WHERE run_id = ANY($1) AND rows_out IS NOT NULL ORDER BY run_id, position DESC`,
      [runIds],
    );
    return new Map(rows.map((r) => [r.run_id as string, r.rows_out === null ? null : Number(r.rows_out)]));
  }

  async createBackfill(b: Omit<BackfillRecord, 'status' | 'createdAt' | 'finishedAt'>): Promise<BackfillRecord> {
    await this.pool.query(
      `INSERT INTO pipekit.backfills (id, pipeline, start_date, end_date, every, variables, status, execution_dates)
       VALUES ($1,$2,$3,$4,$5,$6,'running',$7) ON CONFLICT (id) DO NOTHING`,
      [b.id, b.pipeline, b.start, b.end, b.every, JSON.stringify(b.variables), b.executionDates],
    );
    // Idempotent: the tasks of one Cloud Run execution all "create" the same backfill.
    return (await this.getBackfill(b.id))!;
  }

  async updateBackfill(id: string, patch: { status?: BackfillRecord['status']; finishedAt?: Date | null }): Promise<void> {
    await this.pool.query(
      `UPDATE pipekit.backfills SET status = COALESCE($2, status), finished_at = CASE WHEN $3::boolean THEN $4 ELSE finished_at END WHERE id = $1`,
      [id, patch.status ?? null, patch.finishedAt !== undefined, patch.finishedAt ?? null],
    );
  }

  async getBackfill(id: string): Promise<BackfillRecord | null> {
    const { rows } = await this.pool.query('SELECT * FROM pipekit.backfills WHERE id = $1', [id]);
    return rows[0] ? toBackfill(rows[0]) : null;
  }

  async listBackfills(filter: { pipeline?: string; limit?: number } = {}): Promise<BackfillRecord[]> {
    const values: unknown[] = [];
    const where = filter.pipeline ? `WHERE pipeline = $${values.push(filter.pipeline)}` : '';
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    const { rows } = await this.pool.query(`SELECT * FROM pipekit.backfills ${where} ORDER BY created_at DESC LIMIT ${limit}`, values);
    return rows.map(toBackfill);
  }

  async setTriggerEnabled(pipeline: string, trigger: string, enabled: boolean): Promise<void> {
    await this.pool.query(
      `INSERT INTO pipekit.trigger_overrides (pipeline, trigger, enabled) VALUES ($1,$2,$3)
       ON CONFLICT (pipeline, trigger) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()`,
      [pipeline, trigger, enabled],
    );
  }

  async triggerOverrides(pipeline?: string): Promise<{ pipeline: string; trigger: string; enabled: boolean; updatedAt: Date }[]> {
    const { rows } = await this.pool.query(
      `SELECT * FROM pipekit.trigger_overrides ${pipeline ? 'WHERE pipeline = $1' : ''} ORDER BY pipeline, trigger`,
      pipeline ? [pipeline] : [],
    );
    return rows.map((r) => ({ pipeline: r.pipeline, trigger: r.trigger, enabled: r.enabled, updatedAt: r.updated_at }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

function assignments<P extends object>(patch: P, columns: Record<keyof P, string>) {
  const sets: string[] = [];
  const values: unknown[] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    const column = columns[key as keyof P];
    if (!column) throw new Error(`unknown run store field ${key}`);
    // The one way text gets in: errors and the like are stored whatever they contain (see safe-text.ts).
    values.push(typeof value === 'string' ? storableText(value) : value);
    sets.push(`${column} = $${values.length}`);
  }
  return { sets, values };
}

type Row = Record<string, any>;

function toRun(r: Row): RunRecord {
  return {
    id: r.id,
    pipeline: r.pipeline,
    trigger: r.trigger,
    executionDate: r.execution_date,
    intervalStart: r.interval_start,
    intervalEnd: r.interval_end,
    profile: r.profile,
    variables: r.variables ?? {},
    status: r.status,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    backfillId: r.backfill_id,
    resumedFrom: r.resumed_from,
    dedupeKey: r.dedupe_key,
  };
}

function toBlockRun(r: Row): BlockRunRecord {
  return {
    runId: r.run_id,
    block: r.block,
    status: r.status,
    attempts: r.attempts,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    rowsOut: r.rows_out === null ? null : Number(r.rows_out),
    error: r.error,
    outputUri: r.output_uri,
    reusedFrom: r.reused_from,
  };
}

function toBackfill(r: Row): BackfillRecord {
  return {
    id: r.id,
    pipeline: r.pipeline,
    start: r.start_date,
    end: r.end_date,
    every: r.every,
    variables: r.variables ?? {},
    status: r.status,
    createdAt: r.created_at,
    finishedAt: r.finished_at,
    executionDates: r.execution_dates ?? [],
  };
}
