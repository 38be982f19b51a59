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
import type { ImageTree } from './image-tree.ts';

export interface BuildPlan {
  /** What builds the image: `cloudbuild.yaml`, a resource of the graph, or the documented command. */
  readonly builder: string;
  readonly buildKit: boolean;
  /** The service account each build runs as; undefined means Cloud Build's default account. */
  readonly builds: { what: string; serviceAccount?: string }[];
}

export function planBuild(graph: Graph, deployment: Deployment, tree: ImageTree, context: string): BuildPlan {
  const builds: { what: string; serviceAccount?: string }[] = deployment.functions.map((f) => ({ what: `function ${f.name}`, serviceAccount: f.buildServiceAccount }));
  const cloudbuild = join(context, 'cloudbuild.yaml');
  // A resource of the graph that starts a Cloud Build (a trigger, or a command that submits one).
  const declared = graph.resources.find((r) => r.type.startsWith('gcp:cloudbuild/') || JSON.stringify(r.inputs).includes('builds submit'));
  if (existsSync(cloudbuild)) {
    const config = parse(readFileSync(cloudbuild, 'utf8')) as { steps?: { name?: string; env?: string[]; args?: string[] }[]; serviceAccount?: string; options?: { env?: string[] } };
    const env = [...(config.options?.env ?? []), ...(config.steps ?? []).flatMap((s) => s.env ?? [])];
    const buildKit = env.includes('DOCKER_BUILDKIT=1') || (config.steps ?? []).some((s) => (s.args ?? []).includes('buildx'));
    const serviceAccount = config.serviceAccount ?? findServiceAccount(declared?.inputs);
    builds.push({ what: 'the image (cloudbuild.yaml)', serviceAccount });
    return { builder: `cloudbuild.yaml${declared ? ` started by ${declared.name}` : ''}`, buildKit, builds };
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
    for (const b of tree.dockerfile.buildKitOnly) problems.push(`${tree.dockerfile.file} line ${b.line}: ${b.text} needs BuildKit, which ${plan.builder} does not turn on`);
  }
  for (const b of plan.builds) {
    if (!b.serviceAccount) problems.push(`${b.what} builds as Cloud Build's default service account, which projects created since 2024 do not grant build rights: declare a build service account`);
  }
  return problems;
}

function findServiceAccount(inputs: unknown): string | undefined {
  const text = JSON.stringify(inputs ?? {});
  return /"serviceAccount(?:Email)?":"([^"]+)"/.exec(text)?.[1] ?? /--service-account[= ]([^\s"]+)/.exec(text)?.[1];
}
