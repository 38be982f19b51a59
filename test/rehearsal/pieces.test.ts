/** The rehearsal's own parts, on small inputs: .dockerignore, the Dockerfile reader, the build plan, IAM. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProblems, type BuildPlan } from '../../scripts/rehearsal/build.ts';
import { parseDockerfile } from '../../scripts/rehearsal/dockerfile.ts';
import type { Graph, GraphResource } from '../../scripts/rehearsal/graph.ts';
import { IamPolicy, permissionDenied } from '../../scripts/rehearsal/iam.ts';
import { dockerIgnore, type ImageTree } from '../../scripts/rehearsal/image-tree.ts';

describe('.dockerignore', () => {
  const context = mkdtempSync(join(tmpdir(), 'pipekit-dockerignore-'));
  writeFileSync(join(context, '.dockerignore'), '*\n!src/\n!package.json\n!infra/naming.ts\n**/.pipekit\n**/*.log\n');
  const ignored = dockerIgnore(context);

  it('keeps out everything but what a later `!` rule lets back in, the last match winning', () => {
    expect(ignored('src/index.ts')).toBe(false);
    expect(ignored('package.json')).toBe(false);
    expect(ignored('infra/naming.ts')).toBe(false);
    expect(ignored('infra/program.ts')).toBe(true);
    expect(ignored('test/a.test.ts')).toBe(true);
    expect(ignored('src/.pipekit/state')).toBe(true);
    expect(ignored('src/debug.log')).toBe(true);
  });
});

describe('the Dockerfile reader', () => {
  const dockerfile = parseDockerfile(`ARG NODE_IMAGE=node:20
FROM \${NODE_IMAGE} AS deps
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev
FROM \${NODE_IMAGE} AS runtime
WORKDIR /app
ENV A=1 \\
    B="two words"
COPY --from=deps --chown=node:node /app/node_modules ./node_modules
COPY --chown=node:node src ./src
USER node
ENTRYPOINT ["node", "bin/pipekit.js"]
CMD ["--help"]
`);

  it('reads the final stage and what needs BuildKit', () => {
    expect(dockerfile.stages.map((s) => `${s.name} ${s.base}`)).toEqual(['deps node:20', 'runtime node:20']);
    expect(dockerfile.runtime).toMatchObject({
      workdir: '/app',
      env: { A: '1', B: 'two words' },
      user: 'node',
      entrypoint: ['node', 'bin/pipekit.js'],
      cmd: ['--help'],
    });
    expect(dockerfile.runtime.copies.map((c) => `${c.from ?? '.'}:${c.sources.join(',')}→${c.dest}`)).toEqual([
      'deps:/app/node_modules→./node_modules',
      '.:src→./src',
    ]);
    expect(dockerfile.buildKitOnly).toEqual([{ line: 3, text: 'RUN --mount=type=cache,target=/root/.npm' }]);
  });

  it('reports a BuildKit-only instruction the builder cannot run, and a build without its own account', () => {
    const tree = { dockerfile: { ...dockerfile, file: 'Dockerfile' } } as ImageTree;
    const plan: BuildPlan = { builder: 'gcloud builds submit --tag', buildKit: false, builds: [{ what: 'the image' }] };
    expect(buildProblems(plan, tree)).toEqual([
      'Dockerfile line 3: RUN --mount=type=cache,target=/root/.npm needs BuildKit, which gcloud builds submit --tag does not turn on',
      "the image builds as Cloud Build's default service account, which projects created since 2024 do not grant build rights: declare a build service account",
    ]);
  });
});

describe('IAM from the graph', () => {
  const resource = (type: string, name: string, inputs: Record<string, unknown>, state: Record<string, unknown> = {}): GraphResource => ({
    type,
    name,
    id: `${name}-id`,
    inputs,
    state: { ...inputs, ...state },
  });
  const resources = [
    resource(
      'gcp:projects/iAMCustomRole:IAMCustomRole',
      'runner',
      { roleId: 'runner', permissions: ['run.jobs.runWithOverrides'] },
      { name: 'projects/p/roles/runner' },
    ),
    resource('gcp:cloudrunv2/jobIamMember:JobIamMember', 'grant', {
      project: 'p',
      location: 'r',
      name: 'job-a',
      role: 'projects/p/roles/runner',
      member: 'serviceAccount:sched@p.iam',
    }),
    resource('gcp:storage/bucketIAMMember:BucketIAMMember', 'lake', {
      bucket: 'lake',
      role: 'roles/storage.objectAdmin',
      member: 'serviceAccount:jobs@p.iam',
    }),
    resource('gcp:projects/iAMMember:IAMMember', 'bq', {
      project: 'p',
      role: 'roles/bigquery.jobUser',
      member: 'serviceAccount:jobs@p.iam',
    }),
  ];
  const graph = {
    project: 'p',
    region: 'r',
    resources,
    outputs: {},
    ofType: (t: string) => resources.filter((x) => x.type === t),
    byId: () => undefined,
  } as Graph;

  it('allows what a custom role, a bucket grant or a project grant gives, on that resource only', () => {
    const policy = new IamPolicy(graph);
    expect(policy.check('sched@p.iam', 'run.jobs.runWithOverrides', 'projects/p/locations/r/jobs/job-a', 'test').allowed).toBe(true);
    expect(policy.check('sched@p.iam', 'run.jobs.runWithOverrides', 'projects/p/locations/r/jobs/job-b', 'test').allowed).toBe(false);
    expect(policy.check('jobs@p.iam', 'storage.objects.create', 'projects/_/buckets/lake/objects/a.parquet', 'test').allowed).toBe(true);
    expect(policy.check('jobs@p.iam', 'storage.objects.get', 'projects/_/buckets/landing/objects/a.csv', 'test').allowed).toBe(false);
    expect(policy.check('jobs@p.iam', 'bigquery.jobs.create', 'projects/p', 'test').allowed).toBe(true);
    expect(policy.refusals().length).toBe(2);
  });

  it('answers a refusal like Google, naming the account, the permission and the resource', () => {
    const policy = new IamPolicy(graph);
    const body = permissionDenied(policy.check('jobs@p.iam', 'storage.objects.get', 'projects/_/buckets/landing/objects/a.csv', 'test'));
    expect(body.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED' });
    expect(body.error.message).toBe(
      "Permission 'storage.objects.get' denied on resource 'projects/_/buckets/landing/objects/a.csv' for jobs@p.iam (or it may not exist).",
    );
  });
});
