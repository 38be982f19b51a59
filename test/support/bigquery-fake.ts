/**
 * A recording BigQuery REST fake for tests, backed by DuckDB: datasets,
 * tables, jobs (load by multipart upload or by gs:// URI, query with or
 * without destination), job polling and getQueryResults. Tests assert on the
 * real request shapes the client library sends (`fake.requests`), and simple
 * GoogleSQL SELECTs run for real on the loaded Parquet.
 *
 * Datasets are DuckDB schemas; `` `project.dataset.table` `` is rewritten to
 * `"dataset"."table"`. Only what pipekit's connector sends is implemented.
 * Multi-statement scripts run statement by statement, with BigQuery's
 * transaction rule: a failed statement (or `failStatements`) rolls back the
 * open transaction and fails the job.
 */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { PassThroughClient } from 'google-auth-library';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { GcsFake } from './gcs-fake.ts';
import { multipartParts, readBody, sendJson as send } from './http-fake.ts';

export interface RecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body?: any;
  mediaBytes?: number;
}
export interface FakeField {
  name: string;
  type: string;
  mode?: string;
}
interface FakeJob {
  id: string;
  location: string;
  configuration: any;
  polls: number;
  error?: { reason: string; message: string };
  stats?: any;
  result?: { schema: FakeField[]; rows: (string | null)[][] };
}

export interface BigQueryFake {
  readonly url: string;
  readonly requests: RecordedCall[];
  /** Job inserts as sent (body of jobs.insert or the metadata part of the upload). */
  readonly jobs: () => any[];
  client(projectId?: string): BigQuery;
  createDataset(id: string, location: string): void;
  /** Table schema as tables.get would return it, or undefined. */
  table(
    dataset: string,
    table: string,
  ): { schema: FakeField[]; numRows: number; expirationTime?: string; timePartitioning?: { type: string; field?: string } } | undefined;
  /** Makes a script statement fail (the message) when the rule returns one: a failure injected mid-transaction. */
  failStatements(rule?: (statement: string) => string | undefined): void;
  sql(text: string): Promise<(string | null)[][]>;
  /** `(method, path)` → a permission to deny with 403, or undefined. */
  deny(rule?: (call: RecordedCall) => string | undefined): void;
  close(): Promise<void>;
}

const TO_DUCK: Record<string, string> = {
  INTEGER: 'BIGINT',
  INT64: 'BIGINT',
  FLOAT: 'DOUBLE',
  FLOAT64: 'DOUBLE',
  STRING: 'VARCHAR',
  BOOLEAN: 'BOOLEAN',
  BOOL: 'BOOLEAN',
  TIMESTAMP: 'TIMESTAMP',
  DATE: 'DATE',
  DATETIME: 'TIMESTAMP',
};
const LEGACY: Record<string, string> = { INT64: 'INTEGER', FLOAT64: 'FLOAT', BOOL: 'BOOLEAN' };
const fromDuck = (t: string): string =>
  /INT/.test(t)
    ? 'INTEGER'
    : /DOUBLE|FLOAT|DECIMAL|REAL/.test(t)
      ? 'FLOAT'
      : t === 'BOOLEAN'
        ? 'BOOLEAN'
        : /^TIMESTAMP/.test(t)
          ? 'TIMESTAMP'
          : t === 'DATE'
            ? 'DATE'
            : 'STRING';
const q = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Starts the fake. `gcs` resolves gs:// source URIs of load jobs. */
export async function startBigQueryFake(
  options: { projectId?: string; gcs?: GcsFake; pollsUntilDone?: number } = {},
): Promise<BigQueryFake> {
  const dir = await mkdtemp(join(tmpdir(), 'pipekit-bqfake-'));
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  const datasets = new Map<string, string>(); // id → location
  const meta = new Map<string, { schema: FakeField[]; expirationTime?: string; timePartitioning?: { type: string; field?: string } }>(); // "d.t"
  const jobs = new Map<string, FakeJob>();
  const requests: RecordedCall[] = [];
  let denyRule: ((c: RecordedCall) => string | undefined) | undefined;
  let failRule: ((statement: string) => string | undefined) | undefined;
  let lock = Promise.resolve();
  let base = '';
  let files = 0;

  const rows = async (sql: string) => (await duck.runAndReadAll(sql)).getRows().map((r) => r.map((v) => (v === null ? null : String(v))));
  const exists = async (d: string, t: string) =>
    (await rows(`SELECT count(*) FROM information_schema.tables WHERE table_schema='${d}' AND table_name='${t}'`))[0][0] !== '0';
  const count = async (d: string, t: string) => Number((await rows(`SELECT count(*) FROM ${q(d)}.${q(t)}`))[0][0]);
  const describe = async (sql: string): Promise<FakeField[]> =>
    (await rows(`DESCRIBE ${sql}`)).map((r) => ({ name: r[0]!, type: fromDuck(r[1]!), mode: 'NULLABLE' }));

  const server = createServer((req, res) => {
    lock = lock.then(() => handle(req, res)).catch((error) => send(res, 500, apiError(500, String(error), 'backendError')));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const u = new URL(req.url ?? '/', base);
    const raw = await readBody(req);
    const call: RecordedCall = { method: req.method ?? 'GET', path: u.pathname, query: Object.fromEntries(u.searchParams) };
    let media: Buffer | undefined;
    if (u.pathname.startsWith('/upload/')) {
      const parts = multipartParts(String(req.headers['content-type']), raw);
      call.body = JSON.parse(parts[0].toString());
      media = parts[1];
      call.mediaBytes = media.length;
    } else if (raw.length) call.body = JSON.parse(raw.toString());
    requests.push(call);
    const denied = denyRule?.(call);
    if (denied)
      return send(
        res,
        403,
        apiError(
          403,
          `Access Denied: User pipekit-runner@test-project.iam.gserviceaccount.com does not have ${denied} permission.`,
          'accessDenied',
        ),
      );

    const m = /^(?:\/upload)?\/bigquery\/v2\/projects\/([^/]+)(\/.*)$/.exec(u.pathname);
    if (!m) return send(res, 404, apiError(404, `no route ${u.pathname}`, 'notFound'));
    const [, project, rest] = m;
    let r: RegExpExecArray | null;
    if (call.method === 'POST' && rest === '/datasets') {
      const id = call.body.datasetReference.datasetId;
      if (datasets.has(id)) return send(res, 409, apiError(409, `Already Exists: Dataset ${project}:${id}`, 'duplicate'));
      datasets.set(id, call.body.location ?? 'US');
      await duck.run(`CREATE SCHEMA ${q(id)}`);
      return send(res, 200, datasetResource(project, id));
    }
    if ((r = /^\/datasets\/([^/]+)$/.exec(rest)) && call.method === 'GET') {
      return datasets.has(r[1])
        ? send(res, 200, datasetResource(project, r[1]))
        : send(res, 404, apiError(404, `Not found: Dataset ${project}:${r[1]}`, 'notFound'));
    }
    if ((r = /^\/datasets\/([^/]+)\/tables$/.exec(rest)) && call.method === 'POST') {
      const t = call.body.tableReference.tableId;
      if (!datasets.has(r[1])) return send(res, 404, apiError(404, `Not found: Dataset ${project}:${r[1]}`, 'notFound'));
      if (await exists(r[1], t)) return send(res, 409, apiError(409, `Already Exists: Table ${project}:${r[1]}.${t}`, 'duplicate'));
      await createTable(r[1], t, call.body.schema.fields);
      meta.get(`${r[1]}.${t}`)!.expirationTime = call.body.expirationTime;
      meta.get(`${r[1]}.${t}`)!.timePartitioning = call.body.timePartitioning;
      return send(res, 200, await tableResource(project, r[1], t));
    }
    if ((r = /^\/datasets\/([^/]+)\/tables\/([^/]+)$/.exec(rest))) {
      const [d, t] = [r[1], decodeURIComponent(r[2])];
      if (!datasets.has(d) || !(await exists(d, t)))
        return send(res, 404, apiError(404, `Not found: Table ${project}:${d}.${t}`, 'notFound'));
      if (call.method === 'DELETE') {
        await duck.run(`DROP TABLE ${q(d)}.${q(t)}`);
        meta.delete(`${d}.${t}`);
        res.statusCode = 204;
        return void res.end();
      }
      if (call.method === 'PATCH' || call.method === 'PUT') {
        const m = meta.get(`${d}.${t}`);
        if (m && call.body?.expirationTime) m.expirationTime = call.body.expirationTime;
      }
      return send(res, 200, await tableResource(project, d, t));
    }
    if (call.method === 'POST' && rest === '/jobs') {
      const body = call.body;
      const job: FakeJob = {
        id: body.jobReference.jobId,
        location: body.jobReference.location ?? 'US',
        configuration: body.configuration,
        polls: 0,
      };
      jobs.set(job.id, job);
      await execute(job, media);
      return send(res, 200, jobResource(project, job, false));
    }
    if ((r = /^\/jobs\/([^/]+)$/.exec(rest)) && call.method === 'GET') {
      const job = jobs.get(r[1]);
      if (!job) return send(res, 404, apiError(404, `Not found: Job ${project}:${r[1]}`, 'notFound'));
      job.polls++;
      return send(res, 200, jobResource(project, job, job.polls >= (options.pollsUntilDone ?? 1)));
    }
    if ((r = /^\/queries\/([^/]+)$/.exec(rest)) && call.method === 'GET') {
      const job = jobs.get(r[1]);
      if (!job?.result) return send(res, 404, apiError(404, `Not found: Job ${project}:${r[1]}`, 'notFound'));
      const start = Number(call.query.pageToken ?? 0);
      const size = Number(call.query.maxResults ?? 100_000);
      const page = job.result.rows.slice(start, start + size);
      return send(res, 200, {
        kind: 'bigquery#getQueryResultsResponse',
        jobComplete: true,
        jobReference: { projectId: project, jobId: job.id, location: job.location },
        schema: { fields: job.result.schema },
        totalRows: String(job.result.rows.length),
        rows: page.map((row) => ({ f: row.map((v) => ({ v })) })),
        ...(start + size < job.result.rows.length ? { pageToken: String(start + size) } : {}),
      });
    }
    send(res, 404, apiError(404, `no route ${call.method} ${u.pathname}`, 'notFound'));
  }

  async function createTable(d: string, t: string, fields: FakeField[]) {
    await duck.run(
      `CREATE TABLE ${q(d)}.${q(t)} (${fields.map((f) => `${q(f.name)} ${TO_DUCK[f.type.toUpperCase()] ?? 'VARCHAR'}`).join(', ')})`,
    );
    meta.set(`${d}.${t}`, {
      schema: fields.map((f) => ({ name: f.name, type: LEGACY[f.type.toUpperCase()] ?? f.type.toUpperCase(), mode: f.mode ?? 'NULLABLE' })),
    });
  }

  async function execute(job: FakeJob, media?: Buffer) {
    const fail = (reason: string, message: string) => void (job.error = { reason, message });
    try {
      if (job.configuration.load) {
        const load = job.configuration.load;
        const { datasetId: d, tableId: t, projectId: p } = load.destinationTable;
        if (!datasets.has(d)) return fail('notFound', `Not found: Dataset ${p}:${d}`);
        if (datasets.get(d)!.toLowerCase() !== job.location.toLowerCase())
          return fail('notFound', `Not found: Dataset ${p}:${d} was not found in location ${job.location}`);
        const source = media ? await stageFile([{ name: `upload-${files++}.parquet`, data: media }]) : await gcsFiles(load.sourceUris);
        if (source === undefined) return fail('notFound', `Not found: URI ${load.sourceUris.join(', ')}`);
        const hive = load.hivePartitioningOptions ? ', hive_partitioning = true' : '';
        const select = `SELECT * FROM read_parquet([${source.map((f) => `'${f}'`).join(', ')}]${hive})`;
        const fields: FakeField[] = load.schema?.fields ?? (await describe(select));
        const present = await exists(d, t);
        if (present && load.writeDisposition === 'WRITE_EMPTY' && (await count(d, t)) > 0)
          return fail('duplicate', `Already Exists: Table ${p}:${d}.${t}`);
        if (present && load.writeDisposition === 'WRITE_APPEND') {
          const old = meta.get(`${d}.${t}`)!.schema;
          for (const f of fields) {
            const o = old.find((x) => x.name === f.name);
            const norm = (s: string) => LEGACY[s.toUpperCase()] ?? s.toUpperCase();
            if (o && norm(o.type) !== norm(f.type))
              return fail(
                'invalid',
                `Provided Schema does not match Table ${p}:${d}.${t}. Field ${f.name} has changed type from ${norm(o.type)} to ${norm(f.type)}`,
              );
          }
        }
        if (present && load.writeDisposition === 'WRITE_TRUNCATE') await duck.run(`DROP TABLE ${q(d)}.${q(t)}`);
        if (!present || load.writeDisposition === 'WRITE_TRUNCATE') await createTable(d, t, fields);
        const before = await count(d, t);
        await duck.run(`INSERT INTO ${q(d)}.${q(t)} BY NAME ${select}`);
        job.stats = { load: { outputRows: String((await count(d, t)) - before), inputFiles: String(source.length) } };
      } else if (job.configuration.query) {
        const cfg = job.configuration.query;
        const script = splitScript(cfg.query);
        if (script.length > 1) return runScript(job, script);
        const sql = rewrite(cfg.query);
        if (cfg.defaultDataset) await duck.run(`SET schema = '${cfg.defaultDataset.datasetId}'`);
        let fields: FakeField[];
        try {
          fields = await describe(sql);
        } catch (error) {
          return fail('invalidQuery', String((error as Error).message).split('\n')[0]);
        }
        let resultSql = sql;
        if (cfg.destinationTable) {
          const { datasetId: d, tableId: t, projectId: p } = cfg.destinationTable;
          const present = await exists(d, t);
          if (present && cfg.writeDisposition === 'WRITE_EMPTY' && (await count(d, t)) > 0)
            return fail('duplicate', `Already Exists: Table ${p}:${d}.${t}`);
          if (!present || cfg.writeDisposition === 'WRITE_TRUNCATE') {
            await duck.run(`CREATE OR REPLACE TABLE ${q(d)}.${q(t)} AS ${sql}`);
            meta.set(`${d}.${t}`, { schema: fields });
          } else await duck.run(`INSERT INTO ${q(d)}.${q(t)} BY NAME ${sql}`);
          resultSql = `SELECT * FROM ${q(d)}.${q(t)}`;
          fields = await describe(resultSql);
        }
        const exprs = fields.map((f) =>
          f.type === 'TIMESTAMP'
            ? `CAST(epoch_us(${q(f.name)}) AS VARCHAR)`
            : f.type === 'DATE'
              ? `strftime(${q(f.name)}, '%Y-%m-%d')`
              : `CAST(${q(f.name)} AS VARCHAR)`,
        );
        job.result = { schema: fields, rows: await rows(`SELECT ${exprs.join(', ')} FROM (${resultSql})`) };
        job.stats = { query: { totalBytesProcessed: '0' } };
      }
    } catch (error) {
      fail('invalid', String((error as Error).message).split('\n')[0]);
    }
  }

  /** A script: each statement in order; an error rolls back the open transaction, as BigQuery does. */
  async function runScript(job: FakeJob, statements: string[]) {
    let open = false;
    try {
      for (const statement of statements) {
        const injected = failRule?.(statement);
        if (injected) throw new Error(injected);
        if (/^BEGIN\s+TRANSACTION$/i.test(statement)) {
          await duck.run('BEGIN TRANSACTION');
          open = true;
        } else if (/^COMMIT\s+TRANSACTION$/i.test(statement)) {
          await duck.run('COMMIT');
          open = false;
        } else if (/^ROLLBACK\s+TRANSACTION$/i.test(statement)) {
          await duck.run('ROLLBACK');
          open = false;
        } else await duck.run(rewrite(statement));
      }
      if (open) await duck.run('ROLLBACK'); // a transaction still open at the end of the script is rolled back
      job.result = { schema: [], rows: [] };
      job.stats = { query: { statementType: 'SCRIPT' } };
    } catch (error) {
      if (open) await duck.run('ROLLBACK').catch(() => undefined);
      job.error = { reason: 'invalidQuery', message: String((error as Error).message).split('\n')[0] };
    }
  }

  async function stageFile(list: { name: string; data: Buffer }[]): Promise<string[]> {
    const out: string[] = [];
    for (const f of list) {
      const path = join(dir, `f${files++}`, f.name);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.data);
      out.push(path);
    }
    return out;
  }

  /** gs:// URIs (one `*` wildcard each) → local copies, keeping hive folder names. */
  async function gcsFiles(uris: string[]): Promise<string[] | undefined> {
    if (!options.gcs) throw new Error('the BigQuery fake was started without a GCS fake');
    const found: { name: string; data: Buffer }[] = [];
    for (const uri of uris) {
      const [, bucket, pattern] = /^gs:\/\/([^/]+)\/(.*)$/.exec(uri)!;
      const re = new RegExp(
        `^${pattern
          .split('*')
          .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*')}$`,
      );
      for (const [name, o] of options.gcs.buckets.get(bucket) ?? []) if (re.test(name)) found.push({ name, data: o.data });
    }
    if (found.length === 0) return undefined;
    const run = join(dir, `gcs${files++}`);
    const out: string[] = [];
    for (const f of found) {
      const path = join(run, ...f.name.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, f.data);
      out.push(path);
    }
    return out;
  }

  function rewrite(sql: string): string {
    return sql.replace(/`([^`]+)`/g, (_, name: string) => {
      const parts = name.split('.');
      return parts.slice(-2).map(q).join('.');
    });
  }

  function datasetResource(project: string, id: string) {
    return {
      kind: 'bigquery#dataset',
      id: `${project}:${id}`,
      datasetReference: { projectId: project, datasetId: id },
      location: datasets.get(id),
    };
  }

  async function tableResource(project: string, d: string, t: string) {
    const m = meta.get(`${d}.${t}`);
    return {
      kind: 'bigquery#table',
      id: `${project}:${d}.${t}`,
      tableReference: { projectId: project, datasetId: d, tableId: t },
      schema: { fields: m?.schema ?? [] },
      numRows: String(await count(d, t)),
      location: datasets.get(d),
      ...(m?.expirationTime ? { expirationTime: m.expirationTime } : {}),
    };
  }

  function jobResource(project: string, job: FakeJob, done: boolean) {
    return {
      kind: 'bigquery#job',
      id: `${project}:${job.location}.${job.id}`,
      jobReference: { projectId: project, jobId: job.id, location: job.location },
      configuration: job.configuration,
      status: done ? { state: 'DONE', ...(job.error ? { errorResult: job.error, errors: [job.error] } : {}) } : { state: 'RUNNING' },
      ...(done && job.stats ? { statistics: job.stats } : {}),
    };
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: base,
    requests,
    jobs: () => requests.filter((c) => c.method === 'POST' && /\/jobs$/.test(c.path)).map((c) => c.body),
    client: (projectId = options.projectId ?? 'pipekit-test-123') =>
      new BigQuery({ apiEndpoint: base, projectId, autoRetry: false, authClient: new PassThroughClient() as never }),
    createDataset: (id, location) => {
      datasets.set(id, location);
      lock = lock.then(() => duck.run(`CREATE SCHEMA IF NOT EXISTS ${q(id)}`).then(() => undefined));
    },
    table: (d, t) => {
      const m = meta.get(`${d}.${t}`);
      return m && { schema: m.schema, numRows: -1, expirationTime: m.expirationTime, timePartitioning: m.timePartitioning };
    },
    failStatements: (rule) => void (failRule = rule),
    sql: (text) => (lock = lock.then(() => undefined)).then(() => rows(text)),
    deny: (rule) => void (denyRule = rule),
    close: async () => {
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
      duck.closeSync?.();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Statements of a script, split on `;` outside quotes, trimmed, empty ones dropped. */
function splitScript(sql: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const c of sql) {
    if (quote) {
      if (c === quote) quote = undefined;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === ';') {
      out.push(current);
      current = '';
      continue;
    }
    current += c;
  }
  out.push(current);
  return out.map((s) => s.trim()).filter(Boolean);
}

function apiError(code: number, message: string, reason: string) {
  return { error: { code, message, errors: [{ message, domain: 'global', reason }], status: reason } };
}

export type { DuckDBConnection };
