import { createHash } from 'node:crypto';
import type pg from '../io/postgres/pg.ts';
import type { BackfillRecord, BlockRunRecord, LogRecord, RunFilter, RunOwner, RunRecord } from './model.ts';
import { quietOnLoss } from '../io/postgres/connection.ts';
import { DEFAULT_RECONNECT, isConnectionLoss, type ReconnectPolicy, withReconnect } from './connection-loss.ts';
import { storableJson, storableText } from './safe-text.ts';
import { RUN_STORE_SCHEMA_SQL } from './schema.ts';
import type { BlockRunPatch, CreatedRun, DeadRun, NewRun, RunPatch, RunStore, TakeOver } from './store.ts';

/**
 * The run store on PostgreSQL (embedded on a laptop, Cloud SQL in the cloud).
 * Tables live in schema `pipekit`; the schema is created on first use under
 * an advisory lock so parallel backfill tasks do not race.
 */
export async function createPostgresRunStore(pool: pg.Pool, options: { reconnect?: ReconnectPolicy } = {}): Promise<RunStore> {
  const client = await pool.connect();
  try {
    // The DDL only when the schema is not this version's yet: ALTER TABLE takes an
    // exclusive lock even when the column exists, and run on every start it deadlocked
    // with other processes' run inserts (issue 14 item 6).
    if ((await schemaVersion(client)) !== RUN_STORE_SCHEMA_VERSION) {
      await client.query('SELECT pg_advisory_lock(7242001)');
      try {
        if ((await schemaVersion(client)) !== RUN_STORE_SCHEMA_VERSION) {
          await client.query(RUN_STORE_SCHEMA_SQL);
          await client.query(`COMMENT ON SCHEMA pipekit IS '${RUN_STORE_SCHEMA_VERSION}'`);
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(7242001)');
      }
    }
  } finally {
    client.release();
  }
  return new PostgresRunStore(pool, options.reconnect ?? DEFAULT_RECONNECT);
}

/** Which DDL made the schema: a digest of RUN_STORE_SCHEMA_SQL, kept as the schema's comment. */
const RUN_STORE_SCHEMA_VERSION = `pipekit run store ${createHash('sha256').update(RUN_STORE_SCHEMA_SQL).digest('hex').slice(0, 16)}`;

async function schemaVersion(client: pg.PoolClient): Promise<string | null> {
  const { rows } = await client.query(`SELECT obj_description(oid, 'pg_namespace') AS v FROM pg_namespace WHERE nspname = 'pipekit'`);
  return rows[0]?.v ?? null;
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
  constructor(
    private readonly pool: pg.Pool,
    private readonly reconnect: ReconnectPolicy,
  ) {}

  async createRun(run: NewRun, blocks: readonly string[], options: { takeOver?: TakeOver } = {}): Promise<CreatedRun> {
    const created = await this.reconnecting((client) => this.createRunIn(client, run, blocks, options.takeOver ?? 'same-task'));
    if (created) return created;
    // Another process inserted the same key between our look and our insert.
    const { rows } = await this.query('SELECT * FROM pipekit.runs WHERE dedupe_key = $1', [run.dedupeKey]);
    return { outcome: 'duplicate', run: toRun(rows[0]) };
  }

  private async createRunIn(client: pg.PoolClient, run: NewRun, blocks: readonly string[], takeOver: TakeOver): Promise<CreatedRun | null> {
    await client.query('BEGIN');
    // A retry after a connection loss that hid a successful COMMIT finds its own run.
    const mine = await client.query('SELECT * FROM pipekit.runs WHERE id = $1', [run.id]);
    if (mine.rows[0]) {
      await client.query('COMMIT');
      return { outcome: 'created', run: toRun(mine.rows[0]) };
    }
    const owner = run.owner ?? null;
    const ownerValues = [
      owner?.host ?? null,
      owner?.pid ?? null,
      owner?.processStart ?? null,
      owner?.cloudExecution ?? null,
      owner?.cloudTaskIndex ?? null,
      owner?.cloudTaskAttempt ?? null,
    ];
    if (run.dedupeKey) {
      const existing = await client.query('SELECT * FROM pipekit.runs WHERE dedupe_key = $1 FOR UPDATE', [run.dedupeKey]);
      if (existing.rows[0]) {
        const previous = toRun(existing.rows[0]);
        if (!mayTakeOver(previous, owner, takeOver)) {
          await client.query('ROLLBACK');
          return { outcome: 'duplicate', run: previous };
        }
        const updated = await client.query(
          `UPDATE pipekit.runs SET attempt = attempt + 1, status = 'queued', started_at = NULL, finished_at = NULL, error = NULL,
             profile = $2, variables = $3, host = $4, pid = $5, process_start = $6, cloud_execution = $7, cloud_task_index = $8, cloud_task_attempt = $9
           WHERE id = $1 RETURNING *`,
          [previous.id, run.profile, storableJson(run.variables), ...ownerValues],
        );
        await client.query('DELETE FROM pipekit.block_runs WHERE run_id = $1', [previous.id]);
        await insertBlocks(client, previous.id, blocks);
        const ended =
          previous.status === 'failed' || previous.status === 'cancelled'
            ? `${previous.status}${previous.error ? `: ${previous.error}` : ''}`
            : `died while ${previous.status}`;
        await client.query(`INSERT INTO pipekit.logs (run_id, block, time, severity, message) VALUES ($1, NULL, now(), 'WARNING', $2)`, [
          previous.id,
          `attempt ${previous.attempt + 1} takes the run over (attempt ${previous.attempt} ${ended})`,
        ]);
        await client.query('COMMIT');
        return { outcome: 'took-over', run: toRun(updated.rows[0]) };
      }
    }
    const inserted = await client.query(
      `INSERT INTO pipekit.runs (id, pipeline, trigger, execution_date, interval_start, interval_end, profile,
         variables, status, backfill_id, resumed_from, dedupe_key, host, pid, process_start, cloud_execution, cloud_task_index, cloud_task_attempt)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'queued',$9,$10,$11,$12,$13,$14,$15,$16,$17)
       ON CONFLICT (dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
       RETURNING *`,
      [
        run.id,
        run.pipeline,
        run.trigger,
        run.executionDate,
        run.intervalStart,
        run.intervalEnd,
        run.profile,
        storableJson(run.variables),
        run.backfillId,
        run.resumedFrom,
        run.dedupeKey,
        ...ownerValues,
      ],
    );
    if (inserted.rowCount === 0) {
      await client.query('ROLLBACK');
      return null;
    }
    await insertBlocks(client, run.id, blocks);
    await client.query('COMMIT');
    return { outcome: 'created', run: toRun(inserted.rows[0]) };
  }

  async markDead(id: string, attempt: number, dead: DeadRun): Promise<boolean> {
    return this.reconnecting(async (client) => {
      await client.query('BEGIN');
      const ended = await client.query(
        `UPDATE pipekit.runs SET status = $3, error = $4, finished_at = now()
         WHERE id = $1 AND attempt = $2 AND status IN ('queued', 'running') RETURNING id`,
        [id, attempt, dead.status, dead.reason],
      );
      if (ended.rowCount === 0) {
        await client.query('ROLLBACK');
        return false;
      }
      // The block that was running died with the run; the ones after it never started.
      await client.query(
        `UPDATE pipekit.block_runs SET status = CASE WHEN status = 'running' THEN $2 ELSE 'cancelled' END,
           error = CASE WHEN status = 'running' THEN $3 ELSE error END, finished_at = now()
         WHERE run_id = $1 AND status IN ('queued', 'running')`,
        [id, dead.status, dead.reason],
      );
      await client.query(`INSERT INTO pipekit.logs (run_id, block, time, severity, message) VALUES ($1, NULL, now(), 'ERROR', $2)`, [
        id,
        `run ${dead.status} (found by the reconciler): ${dead.reason}`,
      ]);
      await client.query('COMMIT');
      return true;
    });
  }

  async activeRuns(): Promise<RunRecord[]> {
    const { rows } = await this.query(`SELECT * FROM pipekit.runs WHERE status IN ('queued', 'running') ORDER BY created_at`);
    return rows.map(toRun);
  }

  async runOfTask(execution: string, taskIndex: number): Promise<RunRecord | null> {
    const { rows } = await this.query(
      'SELECT * FROM pipekit.runs WHERE cloud_execution = $1 AND cloud_task_index = $2 ORDER BY created_at DESC LIMIT 1',
      [execution, taskIndex],
    );
    return rows[0] ? toRun(rows[0]) : null;
  }

  /** One statement, again on a fresh connection if the connection broke under it. */
  private query(text: string, values?: unknown[]): Promise<pg.QueryResult> {
    return withReconnect(() => this.pool.query(text, values), this.reconnect);
  }

  /**
   * A transaction on its own client, again from the start on a fresh
   * connection if the connection broke (the server rolled it back).
   */
  private reconnecting<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return withReconnect(async () => {
      const client = quietOnLoss(await this.pool.connect());
      let broken: unknown;
      try {
        return await work(client);
      } catch (error) {
        broken = error;
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        // A client whose connection broke must not go back to the pool.
        client.release(broken !== undefined && isConnectionLoss(broken) ? (broken as Error) : undefined);
      }
    }, this.reconnect);
  }

  async updateRun(id: string, patch: RunPatch): Promise<void> {
    const { sets, values } = assignments(patch, RUN_COLUMNS);
    if (sets.length === 0) return;
    await this.query(`UPDATE pipekit.runs SET ${sets.join(', ')} WHERE id = $${values.length + 1}`, [...values, id]);
  }

  async updateBlockRun(runId: string, block: string, patch: BlockRunPatch): Promise<void> {
    const { sets, values } = assignments(patch, BLOCK_COLUMNS);
    if (sets.length === 0) return;
    await this.query(
      `UPDATE pipekit.block_runs SET ${sets.join(', ')} WHERE run_id = $${values.length + 1} AND block = $${values.length + 2}`,
      [...values, runId, block],
    );
  }

  async appendLogs(logs: readonly LogRecord[]): Promise<void> {
    if (logs.length === 0) return;
    await this.query(
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
    const { rows } = await this.query('SELECT * FROM pipekit.runs WHERE id = $1', [id]);
    return rows[0] ? toRun(rows[0]) : null;
  }

  async listRuns(filter: RunFilter = {}): Promise<RunRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    if (filter.pipeline) where.push(`pipeline = $${values.push(filter.pipeline)}`);
    if (filter.status) where.push(`status = $${values.push(filter.status)}`);
    if (filter.backfillId) where.push(`backfill_id = $${values.push(filter.backfillId)}`);
    if (filter.resumedFrom) where.push(`resumed_from = $${values.push(filter.resumedFrom)}`);
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 10_000);
    const { rows } = await this.query(
      `SELECT * FROM pipekit.runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, id DESC LIMIT ${limit}`,
      values,
    );
    return rows.map(toRun);
  }

  async getBlockRuns(runId: string): Promise<BlockRunRecord[]> {
    const { rows } = await this.query('SELECT * FROM pipekit.block_runs WHERE run_id = $1 ORDER BY position', [runId]);
    return rows.map(toBlockRun);
  }

  async getLogs(runId: string, options: { block?: string; limit?: number } = {}): Promise<LogRecord[]> {
    const values: unknown[] = [runId];
    const blockFilter = options.block ? `AND block = $${values.push(options.block)}` : '';
    const limit = Math.min(Math.max(options.limit ?? 10_000, 1), 100_000);
    const { rows } = await this.query(
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
    const { rows } = await this.query(
      `SELECT b.run_id, b.output_uri FROM pipekit.block_runs b JOIN pipekit.runs r ON r.id = b.run_id
       WHERE r.pipeline = $1 AND b.block = $2 AND b.status = 'succeeded' AND b.output_uri IS NOT NULL
       ORDER BY b.finished_at DESC NULLS LAST LIMIT 1`,
      [pipeline, block],
    );
    return rows[0] ? { runId: rows[0].run_id, outputUri: rows[0].output_uri } : null;
  }

  async latestOutputUris(): Promise<Set<string>> {
    const { rows } = await this.query(
      `SELECT DISTINCT ON (r.pipeline, b.block) b.output_uri FROM pipekit.block_runs b JOIN pipekit.runs r ON r.id = b.run_id
       WHERE b.status = 'succeeded' AND b.output_uri IS NOT NULL
       ORDER BY r.pipeline, b.block, b.finished_at DESC NULLS LAST`,
    );
    return new Set(rows.map((r) => r.output_uri as string));
  }

  async rowsOut(runIds: readonly string[]): Promise<Map<string, number | null>> {
    if (runIds.length === 0) return new Map();
    // A run's "rows" is what its last block with a row count produced.
    const { rows } = await this.query(
      `SELECT DISTINCT ON (run_id) run_id, rows_out FROM pipekit.block_runs
       WHERE run_id = ANY($1) AND rows_out IS NOT NULL ORDER BY run_id, position DESC`,
      [runIds],
    );
    return new Map(rows.map((r) => [r.run_id as string, r.rows_out === null ? null : Number(r.rows_out)]));
  }

  async addBackfillExecution(id: string, execution: string): Promise<void> {
    await this.query(
      `UPDATE pipekit.backfills SET cloud_executions = array_append(cloud_executions, $2)
       WHERE id = $1 AND NOT ($2 = ANY(cloud_executions))`,
      [id, execution],
    );
  }

  async createBackfill(b: Omit<BackfillRecord, 'status' | 'createdAt' | 'finishedAt' | 'cloudExecutions'>): Promise<BackfillRecord> {
    await this.query(
      `INSERT INTO pipekit.backfills (id, pipeline, start_date, end_date, every, variables, status, execution_dates)
       VALUES ($1,$2,$3,$4,$5,$6,'running',$7) ON CONFLICT (id) DO NOTHING`,
      [b.id, b.pipeline, b.start, b.end, b.every, JSON.stringify(b.variables), b.executionDates],
    );
    // Idempotent: the tasks of one Cloud Run execution all "create" the same backfill.
    return (await this.getBackfill(b.id))!;
  }

  async updateBackfill(id: string, patch: { status?: BackfillRecord['status']; finishedAt?: Date | null }): Promise<void> {
    await this.query(
      `UPDATE pipekit.backfills SET status = COALESCE($2, status), finished_at = CASE WHEN $3::boolean THEN $4 ELSE finished_at END WHERE id = $1`,
      [id, patch.status ?? null, patch.finishedAt !== undefined, patch.finishedAt ?? null],
    );
  }

  async getBackfill(id: string): Promise<BackfillRecord | null> {
    const { rows } = await this.query('SELECT * FROM pipekit.backfills WHERE id = $1', [id]);
    return rows[0] ? toBackfill(rows[0]) : null;
  }

  async listBackfills(filter: { pipeline?: string; limit?: number } = {}): Promise<BackfillRecord[]> {
    const values: unknown[] = [];
    const where = filter.pipeline ? `WHERE pipeline = $${values.push(filter.pipeline)}` : '';
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    const { rows } = await this.query(`SELECT * FROM pipekit.backfills ${where} ORDER BY created_at DESC LIMIT ${limit}`, values);
    return rows.map(toBackfill);
  }

  async setTriggerEnabled(pipeline: string, trigger: string, enabled: boolean): Promise<void> {
    await this.query(
      `INSERT INTO pipekit.trigger_overrides (pipeline, trigger, enabled) VALUES ($1,$2,$3)
       ON CONFLICT (pipeline, trigger) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now()`,
      [pipeline, trigger, enabled],
    );
  }

  async triggerOverrides(pipeline?: string): Promise<{ pipeline: string; trigger: string; enabled: boolean; updatedAt: Date }[]> {
    const { rows } = await this.query(
      `SELECT * FROM pipekit.trigger_overrides ${pipeline ? 'WHERE pipeline = $1' : ''} ORDER BY pipeline, trigger`,
      pipeline ? [pipeline] : [],
    );
    return rows.map((r) => ({ pipeline: r.pipeline, trigger: r.trigger, enabled: r.enabled, updatedAt: r.updated_at }));
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

async function insertBlocks(client: pg.PoolClient, runId: string, blocks: readonly string[]): Promise<void> {
  if (blocks.length === 0) return;
  await client.query(
    `INSERT INTO pipekit.block_runs (run_id, block, status, position)
     SELECT $1, b, 'queued', ord FROM unnest($2::text[]) WITH ORDINALITY AS t(b, ord)`,
    [runId, blocks],
  );
}

/**
 * The dedupe key guards against two live runs of one tick, not against
 * retrying one that failed or whose task died (see `TakeOver`).
 */
export function mayTakeOver(previous: RunRecord, owner: RunOwner | null, policy: TakeOver): boolean {
  if (previous.status === 'succeeded') return false;
  const was = previous.owner;
  if (
    owner?.cloudExecution &&
    was?.cloudExecution === owner.cloudExecution &&
    was.cloudTaskIndex === owner.cloudTaskIndex &&
    (was.cloudTaskAttempt ?? 0) < (owner.cloudTaskAttempt ?? 0)
  ) {
    return true;
  }
  return policy === 'retry' && (previous.status === 'failed' || previous.status === 'cancelled');
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
    attempt: r.attempt ?? 1,
    owner:
      r.pid === null || r.pid === undefined
        ? null
        : {
            host: r.host,
            pid: r.pid,
            processStart: r.process_start,
            cloudExecution: r.cloud_execution,
            cloudTaskIndex: r.cloud_task_index,
            cloudTaskAttempt: r.cloud_task_attempt,
          },
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
    cloudExecutions: r.cloud_executions ?? [],
  };
}
