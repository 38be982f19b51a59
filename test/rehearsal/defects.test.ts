/**
 * Issue 12's defects that the rehearsal finds without running a pipeline:
 * the build (2, 3), `pulumi up` alone deploying the jobs (6), grants only
 * where used (7), and `pulumi destroy` (8). Each is a regression test; those
 * comments say what the defect was.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/pipelines-source.ts';
import { buildProblems, planBuild } from '../../scripts/rehearsal/build.ts';
import { readDeployment } from '../../scripts/rehearsal/deployment.ts';
import { rehearseDestroy } from '../../scripts/rehearsal/destroy.ts';
import type { Graph } from '../../scripts/rehearsal/graph.ts';
import { IamPolicy } from '../../scripts/rehearsal/iam.ts';
import { assembleImageTree, type ImageTree } from '../../scripts/rehearsal/image-tree.ts';
import { registryHas } from '../../scripts/rehearsal/rehearsal.ts';
import { declare } from './support.ts';

let graph: Graph;
let tree: ImageTree;

beforeAll(async () => {
  graph = await declare({ config: { cloudArmor: 'false', deletionProtection: 'false' } });
  tree = assembleImageTree(REPO_ROOT);
}, 120_000);

describe('the image tree', () => {
  it('holds what the Dockerfile copies and production dependencies only', () => {
    // pipekit's own code compiled ahead of time by the Dockerfile's build stage; no TypeScript sources.
    expect(existsSync(join(tree.root, 'dist/src/index.js'))).toBe(true);
    expect(existsSync(join(tree.root, 'src'))).toBe(false);
    expect(existsSync(join(tree.root, 'pipelines/io_config.yaml'))).toBe(true);
    expect(existsSync(join(tree.root, 'node_modules/tsx/package.json'))).toBe(true);
    expect(existsSync(join(tree.root, 'node_modules/@pulumi'))).toBe(false);
    expect(existsSync(join(tree.root, 'node_modules/vitest'))).toBe(false);
    expect(existsSync(join(tree.root, 'test'))).toBe(false);
    expect(tree.uid).toBe(1000);
    expect(tree.workdir).toBe('/app');
  });
});

describe('defect 2 and 3: the image build', () => {
  // Was: `RUN --mount=type=cache` needs BuildKit, `gcloud builds submit --tag` runs docker without it, and no build ran as a declared account.
  it('builds the Dockerfile with a builder that supports it, as declared build service accounts (defects 2, 3)', () => {
    const plan = planBuild(graph, readDeployment(graph), tree, REPO_ROOT);
    expect(buildProblems(plan, tree)).toEqual([]);
  });
});

describe('defect 6: one command', () => {
  // Was: without pipekit:image the program deployed the foundation only; the jobs needed a second `pulumi up`.
  it('deploys every pipeline job and its scheduler on the first `pulumi up`, with no pipekit:image', async () => {
    const first = await declare({ config: { cloudArmor: 'false' } });
    const deployment = readDeployment(first);
    const jobNames = Object.values(first.outputs.jobNames as Record<string, string>);
    expect(jobNames.length).toBe(5);
    expect(jobNames.filter((j) => !deployment.jobs.has(j))).toEqual([]);
    // The example's one scheduled trigger, and the reconciler's pass (infra/components/reconcile-schedule.ts).
    expect(deployment.schedulers).toHaveLength(2);
    expect(deployment.schedulers.filter((s) => s.name.endsWith('-reconcile'))).toHaveLength(1);
    expect(first.outputs.nextStep).toBeUndefined();
  });
});

describe('defect 7: grants only where used', () => {
  // Was: private IP and a password never ask for cloudsql.instances.connect, yet roles/cloudsql.client was granted project-wide.
  it('grants no project-wide Cloud SQL client role that nothing uses', () => {
    const policy = new IamPolicy(graph);
    expect(policy.bindings.filter((b) => b.role === 'roles/cloudsql.client').map((b) => b.member)).toEqual([]);
  });

  it('names the account, the permission and the resource of a refused call', () => {
    const policy = new IamPolicy(graph);
    const jobs = readDeployment(graph).jobs.values().next().value!.serviceAccount;
    const decision = policy.check(jobs, 'storage.objects.get', 'projects/_/buckets/somebody-elses/objects/a.csv', 'test');
    expect(decision.allowed).toBe(false);
    expect(
      policy.check(jobs, 'storage.objects.get', `projects/_/buckets/${graph.outputs.lakeBucket}/objects/lake/x.parquet`, 'test').allowed,
    ).toBe(true);
    expect(policy.check(jobs, 'secretmanager.versions.access', `projects/${graph.project}/secrets/pipekit-api-token`, 'test').allowed).toBe(
      false,
    );
  });
});

describe('defect 8: tear-down', () => {
  // Was: the private services connection was abandoned and nothing removed its peering, so the VPC could not be deleted.
  it('lets `pulumi destroy` delete everything of a stack with deletionProtection false', () => {
    expect(rehearseDestroy(graph)).toEqual([]);
  });
});

describe('defect 8: the example stack config', () => {
  // Was: Pulumi.example.yaml pinned an all-zero digest, so the copied example deployed workloads pointing at no image.
  it('deploys workloads whose image exists when Pulumi.example.yaml is copied as is', async () => {
    const example = parse(readFileSync(join(REPO_ROOT, 'Pulumi.example.yaml'), 'utf8')) as { config: Record<string, unknown> };
    const deployment = readDeployment(await declare({ config: example.config }));
    const workloads = [...deployment.jobs.values(), ...deployment.services.values()];
    expect(workloads.length).toBeGreaterThan(0);
    expect(workloads.filter((w) => !registryHas(w.container.image)).map((w) => `${w.name}: ${w.container.image}`)).toEqual([]);
  });
});
