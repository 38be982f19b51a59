/**
 * What the rehearsal proves about a deployment, as named checks: the console
 * becomes ready and guards its data, every scheduler's request runs its
 * pipeline to success, the pipelines without a schedule run by `gcloud run
 * jobs execute`, a backfill fans out over tasks, outputs land in the fakes
 * and runs in the run store, a failed run posts its alert, and no secret
 * reaches a log. `npm run rehearse` prints them; test/rehearsal asserts them.
 */
import { resolve as resolvePath } from 'node:path';
import { REPO_ROOT } from '../../infra/pipelines-source.ts';
import { loadProject } from '../../src/project/load-project.ts';
import { buildProblems, planBuild, rehearseBuildAccess } from './build.ts';
import { rehearseDestroy } from './destroy.ts';
import { lastMeaningfulLine } from './report.ts';
import { TITANIC_URL } from './internet.ts';
import type { Execution, Rehearsal } from './rehearsal.ts';

export interface Check {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  /** The issue 12 defect this check would have caught. */
  readonly defect?: number;
}

/**
 * Data dependencies between the example pipelines: gcs_to_bigquery reads the
 * object api_to_gcs writes, so it runs after it.
 */
export const RUN_AFTER: Readonly<Record<string, readonly string[]>> = { gcs_to_bigquery: ['api_to_gcs'] };

const ALERT_WEBHOOK = 'https://hooks.slack.com/services/T0REHEARSAL/B0REHEARSAL/rehearsal';

/** Stack config of the documented deployment the scenario rehearses (docs/deploy.md). */
export const SCENARIO_CONFIG = { userSecrets: { ALERT_WEBHOOK_URL: ALERT_WEBHOOK } };

export async function consoleChecks(r: Rehearsal): Promise<Check[]> {
  const checks: Check[] = [];
  for (const name of r.deployment.services.keys()) {
    const start = await r.startService(name);
    checks.push({
      name: `service ${name} becomes ready from the image`,
      ok: start.ready,
      detail: lastMeaningfulLine(start.output),
      defect: 1,
    });
    if (!start.ready || !start.url) continue;
    const viaLb = { 'x-forwarded-proto': lbScheme(r), 'x-forwarded-for': '203.0.113.7' };
    const runs = await fetch(`${start.url}/api/runs`, { headers: viaLb });
    checks.push({
      name: `${name}: reading runs needs sign-in`,
      ok: runs.status === 401 || runs.status === 403,
      detail: `GET /api/runs without a session answered ${runs.status}`,
      defect: 7,
    });
    const token = [...r.deployment.secrets.entries()].find(([id]) => /api-token/.test(id))?.[1];
    if (token) {
      const login = await fetch(`${start.url}/api/login`, {
        method: 'POST',
        headers: { ...viaLb, 'content-type': 'application/json' },
        body: JSON.stringify({ token }),
      });
      const cookie = login.headers.get('set-cookie') ?? '';
      const secureOverHttp = lbScheme(r) === 'http' && /;\s*Secure/i.test(cookie);
      checks.push({
        name: `${name}: sign-in works over the load balancer's ${lbScheme(r).toUpperCase()}`,
        ok: login.ok && !secureOverHttp,
        detail: secureOverHttp
          ? 'the session cookie is Secure but the load balancer serves plain HTTP: browsers drop it, so nobody can sign in'
          : `login answered ${login.status}`,
        defect: 7,
      });
    }
    start.container?.stop();
    await start.container?.done;
  }
  return checks;
}

/** Fires every Cloud Scheduler job that is not paused. */
export async function schedulerChecks(r: Rehearsal): Promise<Check[]> {
  const checks: Check[] = [];
  for (const s of r.deployment.schedulers.filter((s) => !s.paused)) {
    const firing = await r.fireScheduler(s.name);
    const failed = firing.executions.filter((e) => e.status !== 'succeeded');
    checks.push({
      name: `scheduler ${s.name} starts its job and the run succeeds`,
      ok: firing.status === 200 && firing.executions.length > 0 && failed.length === 0,
      detail:
        firing.status !== 200
          ? `the Run API answered ${firing.status}: ${firing.response.slice(0, 300)}`
          : failed.map(describe).join('; ') || 'no execution started',
    });
  }
  return checks;
}

/** `gcloud run jobs execute` for every pipeline that no scheduler runs, in data-dependency order. */
export async function manualRunChecks(r: Rehearsal): Promise<Check[]> {
  const jobNames = r.graph.outputs.jobNames as Record<string, string>;
  // Only schedulers that run a pipeline (`run …`): the reconciler's (`reconcile`) borrows a pipeline's job without running it.
  const runsPipeline = (body: string) =>
    (JSON.parse(body || '{}') as { overrides?: { containerOverrides?: { args?: string[] }[] } }).overrides?.containerOverrides?.[0]
      ?.args?.[0] === 'run';
  const scheduled = new Set(
    r.deployment.schedulers.filter((s) => runsPipeline(s.body)).map((s) => new URL(s.uri).pathname.split('/').pop()!.replace(/:run$/, '')),
  );
  const pending = Object.keys(jobNames)
    .filter((p) => !scheduled.has(jobNames[p]!))
    .sort();
  const checks: Check[] = [];
  const done = new Set<string>();
  while (pending.length) {
    const ready = pending.filter((p) => (RUN_AFTER[p] ?? []).every((d) => done.has(d) || !pending.includes(d)));
    const batch = ready.length ? ready : [pending[0]!];
    await Promise.all(
      batch.map(async (pipeline) => {
        const result = await r.executeJob(jobNames[pipeline]!);
        const failed = result.executions.filter((e) => e.status !== 'succeeded');
        checks.push({
          name: `gcloud run jobs execute ${jobNames[pipeline]} runs ${pipeline} to success`,
          ok: result.status === 200 && result.executions.length > 0 && failed.length === 0,
          detail: result.status !== 200 ? `${result.status}: ${result.response.slice(0, 300)}` : failed.map(describe).join('; '),
        });
      }),
    );
    for (const p of batch) {
      done.add(p);
      pending.splice(pending.indexOf(p), 1);
    }
  }
  return checks;
}

/** A backfill fanned out over tasks: `--args=backfill,… --tasks=2`. */
export async function backfillChecks(r: Rehearsal, pipeline = 'api_to_gcs_parameterized'): Promise<Check[]> {
  const job = (r.graph.outputs.jobNames as Record<string, string>)[pipeline];
  if (!job) return [];
  const result = await r.executeJob(job, { args: ['backfill', pipeline, '--start', '2021-01-01', '--end', '2021-01-02'], tasks: 2 });
  const e = result.executions[0];
  const indexes = new Set(e?.tasks.map((t) => t.index));
  return [
    {
      name: `gcloud run jobs execute ${job} --args=backfill,… --tasks=2 runs two tasks to success`,
      ok: result.status === 200 && e?.status === 'succeeded' && indexes.size === 2,
      detail: e ? describe(e) : `${result.status}: ${result.response.slice(0, 300)}`,
    },
  ];
}

/** The example pipelines' outputs in the stand-ins, and their runs in the run store. */
export async function outputChecks(r: Rehearsal): Promise<Check[]> {
  const checks: Check[] = [];
  const lake = String(r.graph.outputs.lakeBucket);
  const objects = r.gcs.names(lake);
  const expect = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  expect(
    'api_to_gcs wrote lake/nyc_taxi_data.parquet',
    objects.includes('lake/nyc_taxi_data.parquet'),
    `objects: ${objects.slice(0, 8).join(', ')}`,
  );
  expect(
    'api_to_gcs wrote Hive partitions',
    objects.some((o) => /^lake\/.*=.*\.parquet$/.test(o)),
    `objects: ${objects.slice(0, 8).join(', ')}`,
  );
  expect(
    'example_pipeline wrote lake/titanic_clean.csv',
    objects.includes('lake/titanic_clean.csv'),
    `objects: ${objects.slice(0, 8).join(', ')}`,
  );
  expect(
    'api_to_gcs_parameterized wrote its dated object',
    objects.some((o) => /^lake\/\d{4}\/\d{2}\/\d{2}\/daily-trips\.parquet$/.test(o)),
    `objects: ${objects.slice(0, 8).join(', ')}`,
  );
  const dataset = String(r.graph.outputs.bigqueryDataset);
  const rows = await r.bigquery.sql(`SELECT count(*) FROM "${dataset}"."yellow_cab_data"`).then(
    (x) => Number(x[0]?.[0]),
    (e: Error) => e.message,
  );
  expect(`gcs_to_bigquery loaded ${dataset}.yellow_cab_data in BigQuery`, typeof rows === 'number' && rows > 0, `rows: ${rows}`);
  const [taxiDb, runsDb] = [r.databases.names[0]!, r.databases.names[1]!];
  const taxi = await r
    .sql<{ n: string }>(taxiDb, 'SELECT count(*) AS n FROM ny_taxi.yellow_taxi_data')
    .catch((e: Error) => [{ n: `error: ${e.message}` }]);
  expect('api_to_postgres filled ny_taxi.yellow_taxi_data in Cloud SQL', Number(taxi[0]?.n) > 0, `rows: ${taxi[0]?.n}`);
  const runs = await r.sql<{ pipeline: string; status: string }>(runsDb, 'SELECT pipeline, status FROM pipekit.runs').catch(() => []);
  for (const pipeline of Object.keys(r.graph.outputs.jobNames as Record<string, string>)) {
    const succeeded = runs.some((run) => run.pipeline === pipeline && run.status === 'succeeded');
    expect(
      `${pipeline} has a succeeded run in the run store`,
      succeeded,
      `runs: ${
        runs
          .filter((x) => x.pipeline === pipeline)
          .map((x) => x.status)
          .join(', ') || 'none'
      }`,
    );
  }
  return checks;
}

/** A run that fails posts the alert, with a link to the console. */
export async function alertChecks(r: Rehearsal, pipeline = 'example_pipeline'): Promise<Check[]> {
  const job = (r.graph.outputs.jobNames as Record<string, string>)[pipeline];
  if (!job) return [];
  const before = r.internet.webhooks.length;
  r.internet.fail(TITANIC_URL, 404);
  let result;
  try {
    result = await r.executeJob(job, { why: 'on purpose: its download answers 404, to see the alert' });
  } finally {
    r.internet.fail(TITANIC_URL, 0);
  }
  const posts = r.internet.webhooks.slice(before);
  const consoleUrl = r.graph.outputs.consoleUrl as string | undefined;
  const text = JSON.stringify(posts.map((p) => p.body));
  return [
    {
      name: `a failed ${pipeline} run fails its execution`,
      ok: result.executions[0]?.status === 'failed',
      detail: result.executions[0] ? describe(result.executions[0]) : 'no execution',
    },
    {
      name: 'the failed run posts the alert to the webhook',
      ok: posts.length > 0,
      detail: `${posts.length} posts to ${ALERT_WEBHOOK}`,
      defect: 5,
    },
    {
      name: 'the alert links to the console',
      ok: Boolean(consoleUrl) && text.includes(String(consoleUrl)),
      detail: `console ${consoleUrl ?? '(no consoleUrl output)'}; alert ${text.slice(0, 200)}`,
      defect: 5,
    },
  ];
}

/** No secret value the deployment holds appears in anything a container printed (Cloud Logging). */
export function secretLeakChecks(r: Rehearsal): Check[] {
  const outputs = [
    ...r.executions.flatMap((e) => e.tasks.map((t) => ({ who: e.job, text: t.output }))),
    ...r.services.map((s) => ({ who: s.service, text: s.output })),
  ];
  const leaks: string[] = [];
  for (const [id, value] of r.deployment.secrets) {
    if (value.length < 8) continue;
    for (const o of outputs) if (o.text.includes(value)) leaks.push(`${id} in the logs of ${o.who}`);
  }
  return [{ name: 'no secret value reaches a log', ok: leaks.length === 0, detail: [...new Set(leaks)].join('; '), defect: 7 }];
}

/** A file lands under each `gcs:` trigger's prefix: Cloud Storage → Eventarc → the function → the pipeline's job. */
export async function gcsTriggerChecks(r: Rehearsal): Promise<Check[]> {
  const project = loadProject(r.options.pipelinesDir ?? resolvePath(r.options.context ?? REPO_ROOT, 'pipelines'));
  const checks: Check[] = [];
  for (const pipeline of project.pipelines.values()) {
    for (const trigger of pipeline.triggers) {
      if (trigger.type !== 'gcs' || !trigger.enabled) continue;
      const object = `${trigger.prefix}rehearsal-${Date.now()}.csv`;
      const { delivered, executions } = await r.fireGcsEvent(trigger.bucket, object, 'id,value\n1,2\n');
      const failed = executions.filter((e) => e.status !== 'succeeded');
      checks.push({
        name: `gs://${trigger.bucket}/${object} runs ${pipeline.name} (trigger ${trigger.name})`,
        ok: delivered.length > 0 && delivered.every((d) => d.status < 300) && executions.length > 0 && failed.length === 0,
        detail:
          delivered.length === 0
            ? 'no function watches the bucket'
            : [
                ...delivered.filter((d) => d.status >= 300).map((d) => `${d.fn} answered ${d.status}: ${d.body.slice(0, 200)}`),
                ...failed.map(describe),
              ].join('; ') || 'no execution started',
        defect: 4,
      });
    }
  }
  return checks;
}

/** The apiTrigger function, called as the deployer, starts a pipeline's job through its own account. */
export async function apiTriggerChecks(r: Rehearsal, pipeline = 'api_to_gcs'): Promise<Check[]> {
  if (!r.deployment.functions.some((f) => f.entryPoint === 'apiTrigger')) return [];
  const result = await r.callFunction('apiTrigger', { pipeline });
  const failed = result.executions.filter((e) => e.status !== 'succeeded');
  return [
    {
      name: `apiTrigger {"pipeline":"${pipeline}"} starts the job, and the run succeeds`,
      ok: result.status === 202 && result.executions.length === 1 && failed.length === 0,
      detail:
        result.status !== 202
          ? `${result.status}: ${result.body.slice(0, 300)}`
          : failed.map(describe).join('; ') || `${result.executions.length} executions`,
    },
  ];
}

/** `pulumi up`'s build and `pulumi destroy`, rehearsed on the graph. */
export function deployChecks(r: Rehearsal): Check[] {
  const context = r.options.context ?? REPO_ROOT;
  const plan = planBuild(r.graph, r.deployment, r.tree, context);
  const build = buildProblems(plan, r.tree);
  const access = rehearseBuildAccess(r.graph, r.deployment, r.policy);
  const jobNames = r.graph.outputs.jobNames as Record<string, string>;
  const missing = Object.values(jobNames).filter((j) => !r.deployment.jobs.has(j));
  const destroy = rehearseDestroy(r.graph);
  const deletable = r.graph.resources.some((x) => x.inputs.deletionProtection === true);
  return [
    { name: `the image builds with ${plan.builder}`, ok: build.length === 0, detail: build.join('; '), defect: 2 },
    {
      name: 'every build runs as a declared account that may read its source, push and log',
      ok: access.length === 0 && !build.some((b) => /default service account/.test(b)),
      detail: [...access, ...build.filter((b) => /default service account/.test(b))].join('; '),
      defect: 3,
    },
    {
      name: 'one `pulumi up` deploys every pipeline job',
      ok: missing.length === 0 && Object.keys(jobNames).length > 0,
      detail: missing.length ? `missing: ${missing.join(', ')}` : String(r.graph.outputs.nextStep ?? ''),
      defect: 6,
    },
    {
      name: deletable ? '`pulumi destroy` stops only at deletion protection (it is on)' : '`pulumi destroy` deletes everything',
      ok: destroy.every((d) => /deletion protection/.test(d.reason)),
      detail: destroy
        .filter((d) => !/deletion protection/.test(d.reason))
        .map((d) => `${d.resource}: ${d.reason}`)
        .join('; '),
      defect: 8,
    },
  ];
}

/** Everything, in the order a first deployment meets it. */
export async function runScenario(r: Rehearsal): Promise<Check[]> {
  const checks: Check[] = [...deployChecks(r)];
  checks.push(...(await consoleChecks(r)));
  // Independent runs overlap, as they would in the cloud; the failing run waits until example_pipeline's real one is done.
  for (const phase of [
    [schedulerChecks, manualRunChecks],
    [backfillChecks, alertChecks, gcsTriggerChecks, apiTriggerChecks],
    [outputChecks],
  ]) {
    for (const result of await Promise.all(phase.map((step) => step(r)))) checks.push(...result);
  }
  checks.push(...secretLeakChecks(r));
  return checks;
}

function describe(e: Execution): string {
  if (e.startError) return `${e.job} did not start: ${e.startError}`;
  const failed = e.tasks.filter((t) => t.exitCode !== 0);
  if (!failed.length) return `${e.job} ${e.status} (${e.tasks.length} task runs)`;
  return `${e.job} task ${failed[0]!.index} exit ${failed[0]!.exitCode}: ${lastMeaningfulLine(failed[0]!.output)}`;
}

function lbScheme(r: Rehearsal): 'http' | 'https' {
  return r.graph.ofType('gcp:compute/targetHttpsProxy:TargetHttpsProxy').length > 0 ? 'https' : 'http';
}
