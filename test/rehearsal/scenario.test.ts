/**
 * The documented deployment, rehearsed: every example pipeline runs from the
 * scheduler's request (or `gcloud run jobs execute` where it has no
 * schedule) inside the image's file tree, writes to the stand-ins and lands
 * in the run store; a failed run posts its alert; the console serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { realMounts } from '../../scripts/rehearsal/container.ts';
import type { Rehearsal } from '../../scripts/rehearsal/rehearsal.ts';
import { formatReport } from '../../scripts/rehearsal/report.ts';
import {
  alertChecks,
  apiTriggerChecks,
  backfillChecks,
  consoleChecks,
  deployChecks,
  manualRunChecks,
  outputChecks,
  schedulerChecks,
  secretLeakChecks,
  SCENARIO_CONFIG,
  type Check,
} from '../../scripts/rehearsal/scenario.ts';
import { failures, rehearse } from './support.ts';

let r: Rehearsal;
const checks: Record<string, Check[]> = {};

beforeAll(async () => {
  r = await rehearse({ config: SCENARIO_CONFIG, taxiRows: 500 });
  checks.deploy = deployChecks(r);
  checks.console = await consoleChecks(r);
  // The phases of runScenario: independent runs overlap.
  [checks.scheduled, checks.manual] = await Promise.all([schedulerChecks(r), manualRunChecks(r)]);
  [checks.backfill, checks.alerts, checks.api] = await Promise.all([backfillChecks(r), alertChecks(r), apiTriggerChecks(r)]);
  checks.outputs = await outputChecks(r);
  checks.secrets = secretLeakChecks(r);
}, 300_000);

afterAll(async () => {
  if (!r) return;
  if (
    Object.values(checks)
      .flat()
      .some((c) => !c.ok)
  )
    console.log(formatReport(r, Object.values(checks).flat()));
  await r.close();
});

describe('the rehearsed deployment', () => {
  it('builds the image in `pulumi up` as the build account and deploys every job with it (defects 2, 3, 6)', () => {
    expect(failures(checks.deploy!.filter((c) => c.defect !== 8))).toEqual([]);
    // The init job chowns the share as root: only observable where containers get real mounts and users (root here).
    if (realMounts()) expect(r.notes.some((n) => /pulumi up ran .*workspace-init.*succeeded/.test(n))).toBe(true);
  });

  it('fires every Cloud Scheduler job with exactly its declared request, and each run succeeds', () => {
    expect(checks.scheduled!.length).toBeGreaterThan(0);
    expect(failures(checks.scheduled!)).toEqual([]);
    const firing = r.firings[0]!;
    expect(firing.url).toMatch(/^https:\/\/run\.googleapis\.com\/v2\/projects\/.+\/jobs\/.+:run$/);
    expect(JSON.parse(firing.body)).toEqual({
      overrides: { containerOverrides: [{ args: ['run', 'api_to_gcs_parameterized', '--trigger', 'daily'] }] },
    });
    expect(firing.account).toMatch(/^pipekit-scheduler@/);
  });

  it('runs every other example pipeline by `gcloud run jobs execute`', () => {
    expect(checks.manual!.length).toBe(4);
    expect(failures(checks.manual!)).toEqual([]);
  });

  it('fans a backfill out over --tasks=2 with CLOUD_RUN_TASK_INDEX/COUNT', () => {
    expect(failures(checks.backfill!)).toEqual([]);
  });

  it('starts a pipeline from the apiTrigger function, which runs it as its own account', () => {
    expect(checks.api!.length).toBe(1);
    expect(failures(checks.api!)).toEqual([]);
    expect(
      r.policy.decisions.some(
        (d) => d.account.startsWith('pipekit-functions@') && d.permission === 'run.jobs.runWithOverrides' && d.allowed,
      ),
    ).toBe(true);
  });

  it('writes the objects and tables to the stand-ins and every run to the run store', () => {
    expect(failures(checks.outputs!)).toEqual([]);
  });

  const runApiReads = (d: { permission: string }) => /^run\.(executions|tasks)\./.test(d.permission);

  it("runs the containers as the image user, refusing no call of the pipelines' data path", () => {
    expect(r.tree.uid).toBe(1000);
    if (realMounts()) expect(r.notes[0]).toMatch(/own mount namespace/);
    expect(r.policy.refusals().filter((d) => !runApiReads(d))).toEqual([]);
  });

  // Was (found by the rehearsal when cloudruns' reconciliation merged): a job reconciling runs read Cloud Run
  // executions and tasks as the jobs' account, which had no grant for it, so in the cloud those runs were never reconciled.
  it('lets the jobs read the executions their run reconciliation asks for', () => {
    expect(
      r.policy
        .refusals()
        .filter(runApiReads)
        .map((d) => `${d.account} ${d.permission} ${d.resource} (${d.context})`),
    ).toEqual([]);
  });

  it('prints no secret value in any log', () => {
    expect(failures(checks.secrets!)).toEqual([]);
  });

  it('fails a run whose input is gone', () => {
    expect(checks.alerts![0]!.ok).toBe(true);
  });

  it("posts the failed run's alert to the webhook, linking to the console (defect 5)", () => {
    expect(failures(checks.alerts!)).toEqual([]);
  });

  it('starts the console service from the image (defect 1)', () => {
    expect(failures(checks.console!.filter((c) => c.defect === 1))).toEqual([]);
  });

  it('guards console reads with sign-in and lets sign-in work over HTTP (defect 7)', () => {
    const guarded = checks.console!.filter((c) => c.defect === 7);
    expect(guarded.length).toBe(2);
    expect(failures(guarded)).toEqual([]);
  });
});
