/**
 * Issue 12's defects that only show when a pipeline runs in the deployment:
 * the Filestore share the image's user cannot write (6), a gcs-triggered
 * pipeline that cannot read the object that triggered it (4), and a Cloud
 * SQL connection that does not verify the server (7). One rehearsal, over
 * the example pipelines plus one that a `gcs:` trigger starts.
 */
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/pipelines-source.ts';
import { realMounts } from '../../scripts/rehearsal/container.ts';
import { lastMeaningfulLine } from '../../scripts/rehearsal/report.ts';
import type { Rehearsal } from '../../scripts/rehearsal/rehearsal.ts';
import { rehearse } from './support.ts';

const LANDING = 'rehearsal-landing';
let r: Rehearsal;
let project: string;

beforeAll(async () => {
  project = mkdtempSync(join(tmpdir(), 'pipekit-rehearsal-project-'));
  chmodSync(project, 0o755);
  cpSync(join(REPO_ROOT, 'pipelines'), project, { recursive: true, filter: (src) => !src.includes('.pipekit') });
  mkdirSync(join(project, 'landing_to_lake'));
  writeFileSync(
    join(project, 'landing_to_lake', 'pipeline.yaml'),
    `description: A file landed in the landing bucket, read by the run it triggered
blocks:
  - { uuid: read_landed_file, kind: loader, file: blocks/read_landed_file.ts }
triggers:
  - { name: landing, gcs: { bucket: ${LANDING}, prefix: in/ } }
resources: { cpu: "1", memory: 512Mi, task_timeout: 10m }
`,
  );
  // What a user writes to read the object of the event: the Storage client, as the job's account.
  writeFileSync(
    join(project, 'blocks', 'read_landed_file.ts'),
    `import { Storage } from '@google-cloud/storage';
import { tableFromArrays } from 'apache-arrow';
import { loader } from 'pipekit';

export default loader(async (ctx) => {
  const raw = ctx.event ?? ctx.variables.event;
  const event = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { bucket: string; name: string };
  const [bytes] = await new Storage().bucket(event.bucket).file(event.name).download();
  ctx.log.info(\`read \${bytes.length} bytes of gs://\${event.bucket}/\${event.name}\`);
  return tableFromArrays({ object: [event.name], bytes: [bytes.length] });
});
`,
  );
  r = await rehearse({ pipelinesDir: project, taxiRows: 500 });
}, 180_000);

afterAll(async () => {
  await r?.close();
  if (project) rmSync(project, { recursive: true, force: true });
});

const job = (pipeline: string) => (r.graph.outputs.jobNames as Record<string, string>)[pipeline]!;

describe('defect 6: the Filestore workspace, initialised by `pulumi up`', () => {
  // Was: a new Filestore share is root's (755), the image runs as uid 1000, and docs/deploy.md had a hand-made chown job.
  it("is writable by the image's user without a manual step", async () => {
    const { executions } = await r.executeJob(job('example_pipeline'));
    const run = executions[0]!;
    expect(run.status, lastMeaningfulLine(run.tasks.at(-1)?.output ?? run.startError ?? '')).toBe('succeeded');
  });
});

describe('the image', () => {
  // The Dockerfile's `pipekit compile` (as the image's user): a job start never runs esbuild.
  it('ships the blocks compiled, and a job uses them as they are', async () => {
    const cache = join(r.tree.root, 'pipelines', '.pipekit', 'cache', 'blocks');
    // Names and times: a module compiled again would have the same name, but a new time.
    const files = () =>
      readdirSync(cache)
        .map((name) => `${name} ${statSync(join(cache, name)).mtimeMs}`)
        .sort();
    const before = files();
    expect(before.filter((file) => file.startsWith('load_yellow_taxi.') && file.includes('.mjs '))).toHaveLength(1);
    const { executions } = await r.executeJob(job('api_to_gcs'));
    expect(executions[0]!.status, lastMeaningfulLine(executions[0]!.tasks.at(-1)?.output ?? '')).toBe('succeeded');
    // Without mount namespaces the tree is built in one folder and run from another, so the
    // cached paths differ and the job compiles again (rehearsal's own limit, not the image's).
    if (realMounts()) expect(files()).toEqual(before);
  });
});

describe('pipelines that reach other stores', () => {
  // Was: the jobs' account got object access on the lake bucket only, never on a bucket a gcs trigger watches.
  it('runs the gcs-triggered pipeline, which reads the object that triggered it (defect 4)', async () => {
    const { delivered, executions } = await r.fireGcsEvent(LANDING, 'in/trips.csv', 'a,b\n1,2\n');
    expect(delivered.map((d) => d.status)).toEqual([204]);
    expect(executions.length).toBe(1);
    expect(executions[0]!.args.slice(0, 2)).toEqual(['run', 'landing_to_lake']);
    expect(r.policy.refusals().map((d) => `${d.account} ${d.permission} ${d.resource}`)).toEqual([]);
    expect(executions[0]!.status, lastMeaningfulLine(executions[0]!.tasks.at(-1)?.output ?? '')).toBe('succeeded');
  });

  it('starts the gcs-triggered pipeline from the function, as the functions account', () => {
    const started = r.runApi.runJobs().filter((run) => run.job.endsWith(`/jobs/${job('landing_to_lake')}`));
    expect(started.length).toBe(1);
    expect(
      r.policy.decisions.some(
        (d) => d.account.startsWith('pipekit-functions@') && d.permission === 'run.jobs.runWithOverrides' && d.allowed,
      ),
    ).toBe(true);
  });

  // Was: sslmode=require encrypted but did not check who answered, so a server with a certificate from another CA was accepted.
  it("refuses a Cloud SQL server whose certificate the instance's CA did not sign (defect 7)", async () => {
    r.sqlImpostor = true;
    try {
      const { executions } = await r.executeJob(job('api_to_postgres'));
      expect(executions[0]!.status).toBe('failed');
      expect(lastMeaningfulLine(executions[0]!.tasks.at(-1)!.output)).toMatch(/certificate|self.signed|verify/i);
    } finally {
      r.sqlImpostor = false;
    }
  });

  it('connects to Cloud SQL over TLS with the password from Secret Manager', async () => {
    const { executions } = await r.executeJob(job('api_to_postgres'));
    expect(executions[0]!.status, lastMeaningfulLine(executions[0]!.tasks.at(-1)?.output ?? '')).toBe('succeeded');
    expect(r.cloudSql.sessions).toBeGreaterThan(0);
  });
});
