/**
 * How the image gets built, rehearsed: the builder the program (or, without
 * one, the documented `gcloud builds submit --tag`) uses, whether it can
 * build this Dockerfile, and as which service account the builds run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { Deployment } from './deployment.ts';
import type { Graph } from './graph.ts';
import type { IamPolicy } from './iam.ts';
import type { ImageTree } from './image-tree.ts';

export interface BuildPlan {
  /** What builds the image: `cloudbuild.yaml`, a resource of the graph, or the documented command. */
  readonly builder: string;
  readonly buildKit: boolean;
  /** The service account each build runs as; undefined means Cloud Build's default account. */
  readonly builds: { what: string; serviceAccount?: string }[];
}

export function planBuild(graph: Graph, deployment: Deployment, _tree: ImageTree, context: string): BuildPlan {
  const builds: { what: string; serviceAccount?: string }[] = deployment.functions.map((f) => ({
    what: `function ${f.name}`,
    serviceAccount: f.buildServiceAccount,
  }));
  const cloudbuild = join(context, 'cloudbuild.yaml');
  // A resource of the graph that starts a Cloud Build (a trigger, or a command that submits one).
  const declared = graph.resources.find(
    (r) =>
      r.type.startsWith('gcp:cloudbuild/') ||
      (r.type === 'command:local:Command' && /build/i.test(String(r.inputs.create))) ||
      JSON.stringify(r.inputs).includes('builds submit'),
  );
  if (existsSync(cloudbuild) && declared) {
    const config = parse(readFileSync(cloudbuild, 'utf8')) as {
      steps?: { name?: string; env?: string[]; args?: string[] }[];
      serviceAccount?: string;
      options?: { env?: string[] };
    };
    const env = [...(config.options?.env ?? []), ...(config.steps ?? []).flatMap((s) => s.env ?? [])];
    const buildKit = env.includes('DOCKER_BUILDKIT=1') || (config.steps ?? []).some((s) => (s.args ?? []).includes('buildx'));
    const serviceAccount = config.serviceAccount ?? findServiceAccount(declared?.inputs);
    builds.push({ what: 'the image (cloudbuild.yaml)', serviceAccount });
    return { builder: `cloudbuild.yaml started by ${declared.name}`, buildKit, builds };
  }
  if (!declared && graph.ofType('gcp:cloudrunv2/job:Job').length > 0) {
    // Jobs without a build in the program: pipekit:image, built elsewhere; nothing here to rehearse.
    return { builder: 'pipekit:image (built outside the program)', buildKit: true, builds };
  }
  if (declared) {
    const text = JSON.stringify(declared.inputs);
    builds.push({ what: `the image (${declared.name})`, serviceAccount: findServiceAccount(declared.inputs) });
    return { builder: declared.name, buildKit: /DOCKER_BUILDKIT=1|buildx/.test(text), builds };
  }
  // No build in the program: the documented `gcloud builds submit --tag`, Cloud Build's classic docker step.
  builds.push({ what: 'the image (gcloud builds submit --tag)' });
  return { builder: 'gcloud builds submit --tag (documented; Cloud Build runs `docker build` without BuildKit)', buildKit: false, builds };
}

/** The Dockerfile builds with this builder: no BuildKit-only instruction unless BuildKit is on. */
export function buildProblems(plan: BuildPlan, tree: ImageTree): string[] {
  const problems: string[] = [];
  if (!plan.buildKit) {
    for (const b of tree.dockerfile.buildKitOnly)
      problems.push(`${tree.dockerfile.file} line ${b.line}: ${b.text} needs BuildKit, which ${plan.builder} does not turn on`);
  }
  for (const b of plan.builds) {
    if (!b.serviceAccount)
      problems.push(
        `${b.what} builds as Cloud Build's default service account, which projects created since 2024 do not grant build rights: declare a build service account`,
      );
  }
  return problems;
}

function findServiceAccount(inputs: unknown): string | undefined {
  const text = JSON.stringify(inputs ?? {});
  return (
    /"(?:serviceAccount(?:Email)?|[A-Z_]*SERVICE_ACCOUNT)":"([^"]+)"/.exec(text)?.[1] ?? /--service-account[= ]([^\s"]+)/.exec(text)?.[1]
  );
}

/** An image reference without its tag or digest: the repository path. */
export function imageRepository(image: string): string {
  return image.replace(/@sha256:[0-9a-f]+$/, '').replace(/:[^/:]+$/, '');
}

/**
 * Which Dockerfile stage each image repository holds: cloudbuild.yaml's
 * docker steps (`--target S --tag $_SUB`), their substitutions resolved
 * through the build command's environment (`PIPEKIT_BUILD<_SUB>`).
 */
export function imageStages(graph: Graph, context: string): Map<string, string> {
  const stages = new Map<string, string>();
  const file = join(context, 'cloudbuild.yaml');
  if (!existsSync(file)) return stages;
  const config = parse(readFileSync(file, 'utf8')) as { steps?: { args?: string[] }[] };
  const env: Record<string, string> = Object.assign({}, ...graph.ofType('command:local:Command').map((c) => c.inputs.environment ?? {}));
  for (const step of config.steps ?? []) {
    const args = step.args ?? [];
    const target = args[args.indexOf('--target') + 1];
    const tag = args[args.indexOf('--tag') + 1];
    if (!args.includes('--target') || !tag) continue;
    const sub = /^\$\{?(_[A-Z0-9_]+)\}?$/.exec(tag)?.[1];
    const value = sub ? Object.entries(env).find(([k]) => k.endsWith(sub))?.[1] : tag;
    if (value && target) stages.set(imageRepository(value), target);
  }
  return stages;
}

/**
 * The builds, run for their IAM: each build's account reads its source
 * archive, writes its logs and (the image) pushes to Artifact Registry.
 * Returns the problems; the decisions land in the policy like any other.
 */
export function rehearseBuildAccess(graph: Graph, deployment: Deployment, policy: IamPolicy): string[] {
  const problems: string[] = [];
  const email = (account: string) => account.split('/').pop()!;
  const check = (account: string, permission: string, resource: string, what: string) => {
    const d = policy.check(email(account), permission, resource, what);
    if (!d.allowed) problems.push(`${what}: ${d.account} lacks ${permission} on ${resource}`);
  };
  for (const c of graph.ofType('command:local:Command')) {
    const env = c.inputs.environment ?? {};
    if (!env.PIPEKIT_BUILD_SERVICE_ACCOUNT) continue;
    const what = `image build (${c.name})`;
    const account = String(env.PIPEKIT_BUILD_SERVICE_ACCOUNT);
    check(account, 'storage.objects.get', `projects/_/buckets/${env.PIPEKIT_BUILD_BUCKET}/objects/${env.PIPEKIT_BUILD_OBJECT}`, what);
    check(account, 'logging.logEntries.create', `projects/${graph.project}`, what);
    for (const image of [env.PIPEKIT_BUILD_IMAGE, env.PIPEKIT_BUILD_INIT_IMAGE].filter(Boolean)) {
      const m = /^([a-z0-9-]+)-docker\.pkg\.dev\/([^/]+)\/([^/]+)\//.exec(String(image));
      if (m)
        check(account, 'artifactregistry.repositories.uploadArtifacts', `projects/${m[2]}/locations/${m[1]}/repositories/${m[3]}`, what);
    }
  }
  for (const fn of deployment.functions) {
    if (!fn.buildServiceAccount || !fn.source) continue;
    const what = `function build (${fn.name})`;
    check(fn.buildServiceAccount, 'storage.objects.get', `projects/_/buckets/${fn.source.bucket}/objects/${fn.source.object}`, what);
    check(fn.buildServiceAccount, 'logging.logEntries.create', `projects/${graph.project}`, what);
  }
  return problems;
}
