/**
 * The run store's tables. Idempotent (`IF NOT EXISTS`), run on every start;
 * the same DDL serves the embedded server and Cloud SQL.
 */
export const RUN_STORE_SCHEMA_SQL = `
CREATE SCHEMA IF NOT EXISTS pipekit;

CREATE TABLE IF NOT EXISTS pipekit.backfills (
  id              text PRIMARY KEY,
  pipeline        text NOT NULL,
  start_date      timestamptz NOT NULL,
  end_date        timestamptz NOT NULL,
  every           text NOT NULL,
  variables       jsonb NOT NULL DEFAULT '{}',
  status          text NOT NULL,
  execution_dates timestamptz[] NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  finished_at     timestamptz
);

-- The Cloud Run executions working on a backfill (its first run and each retry), so it can be cancelled.
ALTER TABLE pipekit.backfills ADD COLUMN IF NOT EXISTS cloud_executions text[] NOT NULL DEFAULT '{}';

CREATE TABLE IF NOT EXISTS pipekit.runs (
  id             text PRIMARY KEY,
  pipeline       text NOT NULL,
  trigger        text NOT NULL,
  execution_date timestamptz NOT NULL,
  interval_start timestamptz NOT NULL,
  interval_end   timestamptz NOT NULL,
  profile        text NOT NULL,
  variables      jsonb NOT NULL DEFAULT '{}',
  status         text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  started_at     timestamptz,
  finished_at    timestamptz,
  error          text,
  backfill_id    text REFERENCES pipekit.backfills(id) ON DELETE SET NULL,
  resumed_from   text,
  dedupe_key     text
);
-- Added after the first release: ADD COLUMN IF NOT EXISTS migrates a store created before them.
-- attempt: a retried task (or a re-run of a failed tick) takes its run over as attempt N+1.
-- cloud_*: the Cloud Run execution (resource name), task index and task attempt that own the run;
-- host/pid/process_start: the local process that owns it (process_start tells a reused pid apart).
ALTER TABLE pipekit.runs ADD COLUMN IF NOT EXISTS attempt int NOT NULL DEFAULT 1;
ALTER TABLE pipekit.runs ADD COLUMN IF NOT EXISTS cloud_execution text;
ALTER TABLE pipekit.runs ADD COLUMN IF NOT EXISTS cloud_task_index int;
ALTER TABLE pipekit.runs ADD COLUMN IF NOT EXISTS cloud_task_attempt int;
ALTER TABLE pipekit.runs ADD COLUMN IF NOT EXISTS host text;
ALTER TABLE pipekit.runs ADD COLUMN IF NOT EXISTS pid int;
ALTER TABLE pipekit.runs ADD COLUMN IF NOT EXISTS process_start text;
CREATE INDEX IF NOT EXISTS runs_active ON pipekit.runs (status) WHERE status IN ('queued', 'running');
CREATE UNIQUE INDEX IF NOT EXISTS runs_dedupe_key ON pipekit.runs (dedupe_key) WHERE dedupe_key IS NOT NULL;
CREATE INDEX IF NOT EXISTS runs_pipeline_created ON pipekit.runs (pipeline, created_at DESC);
CREATE INDEX IF NOT EXISTS runs_backfill ON pipekit.runs (backfill_id) WHERE backfill_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS pipekit.block_runs (
  run_id      text NOT NULL REFERENCES pipekit.runs(id) ON DELETE CASCADE,
  block       text NOT NULL,
  position    int NOT NULL,
  status      text NOT NULL,
  attempts    int NOT NULL DEFAULT 0,
  started_at  timestamptz,
  finished_at timestamptz,
  rows_out    bigint,
  error       text,
  output_uri  text,
  reused_from text,
  PRIMARY KEY (run_id, block)
);

CREATE TABLE IF NOT EXISTS pipekit.logs (
  id       bigserial PRIMARY KEY,
  run_id   text NOT NULL REFERENCES pipekit.runs(id) ON DELETE CASCADE,
  block    text,
  time     timestamptz NOT NULL,
  severity text NOT NULL,
  message  text NOT NULL,
  fields   jsonb
);
CREATE INDEX IF NOT EXISTS logs_run ON pipekit.logs (run_id, time);

CREATE TABLE IF NOT EXISTS pipekit.trigger_overrides (
  pipeline   text NOT NULL,
  trigger    text NOT NULL,
  enabled    boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline, trigger)
);
`;
