/**
 * What the graph deploys, in the terms the rehearsal runs it: Cloud Run jobs
 * and services with their containers, Cloud Scheduler jobs with their HTTP
 * requests, secrets with their values, functions with their source and
 * triggers. Read from the resources' inputs only — the same inputs Google
 * would receive.
 */
import type { Graph, GraphResource } from './graph.ts';

export interface EnvVar {
  readonly name: string;
  readonly value?: string;
  readonly secret?: { readonly secret: string; readonly version: string };
}

export interface ContainerDecl {
  readonly image: string;
  readonly command?: string[];
  readonly args?: string[];
  readonly env: EnvVar[];
  readonly mounts: { name: string; mountPath: string }[];
  readonly port?: number;
}

export interface Volume {
  readonly name: string;
  readonly nfs?: { server: string; path: string; readOnly?: boolean };
  readonly emptyDir?: boolean;
}

export interface WorkloadDecl {
  readonly kind: 'job' | 'service';
  readonly name: string;
  /** `projects/P/locations/R/jobs/J` or `…/services/S`. */
  readonly resourceName: string;
  readonly serviceAccount: string;
  readonly container: ContainerDecl;
  readonly volumes: Volume[];
  readonly taskCount: number;
  readonly parallelism: number;
  readonly maxRetries: number;
  /** `runExecutionToken` / `startExecutionToken`: Google starts an execution when the job is deployed. */
  readonly runOnDeploy: boolean;
  readonly declaredBy: string;
}

export interface SchedulerDecl {
  readonly name: string;
  readonly schedule: string;
  readonly timeZone?: string;
  readonly paused: boolean;
  readonly method: string;
  readonly uri: string;
  readonly headers: Record<string, string>;
  /** Decoded from base64, as Cloud Scheduler sends it. */
  readonly body: string;
  readonly oauthAccount?: string;
  readonly oidcAccount?: string;
}

export interface FunctionDecl {
  readonly name: string;
  readonly entryPoint: string;
  readonly serviceAccount: string;
  readonly env: Record<string, string>;
  readonly secretEnv: { key: string; secret: string; version: string }[];
  readonly source?: { bucket: string; object: string };
  readonly buildServiceAccount?: string;
  readonly serviceName: string;
  readonly event?: { type: string; bucket?: string; serviceAccount?: string };
}

export interface Deployment {
  readonly jobs: Map<string, WorkloadDecl>;
  readonly services: Map<string, WorkloadDecl>;
  readonly schedulers: SchedulerDecl[];
  /** secret id → value of its latest version. */
  readonly secrets: Map<string, string>;
  readonly functions: FunctionDecl[];
  /** bucket/object → the archive's files (path → text or local file). */
  readonly archives: Map<string, Record<string, { text?: string; path?: string }>>;
  readonly sqlUsers: { name: string; password: string }[];
  readonly sqlDatabases: string[];
  readonly buckets: string[];
  readonly datasets: string[];
  /** Filestore instances by IP, with their share name. */
  readonly filestores: { ip: string; share: string }[];
}

export function readDeployment(graph: Graph): Deployment {
  const workload = (r: GraphResource, kind: 'job' | 'service'): WorkloadDecl => {
    const pod = kind === 'job' ? r.inputs.template?.template : r.inputs.template;
    const c = pod?.containers?.[0] ?? {};
    const location = r.inputs.location ?? graph.region;
    const project = r.inputs.project ?? graph.project;
    return {
      kind,
      name: r.inputs.name ?? r.name,
      resourceName: `projects/${project}/locations/${location}/${kind}s/${r.inputs.name ?? r.name}`,
      serviceAccount: pod?.serviceAccount ?? `123456789-compute@developer.gserviceaccount.com`,
      container: {
        image: c.image,
        command: c.commands ?? c.command,
        args: c.args,
        env: (c.envs ?? []).map((e: any) => ({
          name: e.name,
          value: e.value,
          secret: e.valueSource?.secretKeyRef
            ? { secret: String(e.valueSource.secretKeyRef.secret), version: String(e.valueSource.secretKeyRef.version ?? 'latest') }
            : undefined,
        })),
        mounts: c.volumeMounts ?? [],
        port: c.ports?.containerPort ?? (Array.isArray(c.ports) ? c.ports[0]?.containerPort : undefined),
      },
      volumes: (pod?.volumes ?? []).map((v: any) => ({ name: v.name, nfs: v.nfs, emptyDir: v.emptyDir !== undefined })),
      taskCount: r.inputs.template?.taskCount ?? 1,
      parallelism: r.inputs.template?.parallelism ?? 0,
      maxRetries: pod?.maxRetries ?? 3,
      runOnDeploy: Boolean(r.inputs.runExecutionToken ?? r.inputs.startExecutionToken),
      declaredBy: r.name,
    };
  };

  const secretIds = new Map(graph.ofType('gcp:secretmanager/secret:Secret').map((s) => [s.id, s.inputs.secretId as string]));
  const secrets = new Map<string, string>();
  for (const v of graph.ofType('gcp:secretmanager/secretVersion:SecretVersion')) {
    const id = secretIds.get(v.inputs.secret) ?? String(v.inputs.secret).split('/').pop()!;
    if (v.inputs.enabled !== false) secrets.set(id, String(v.inputs.secretData ?? ''));
  }

  const archives = new Map<string, Record<string, { text?: string; path?: string }>>();
  for (const o of graph.ofType('gcp:storage/bucketObject:BucketObject')) {
    const assets = o.inputs.source?.assets;
    if (!assets) continue;
    archives.set(
      `${o.inputs.bucket}/${o.inputs.name}`,
      Object.fromEntries(Object.entries(assets).map(([p, a]: [string, any]) => [p, { text: a.text, path: a.path }])),
    );
  }

  return {
    jobs: new Map(graph.ofType('gcp:cloudrunv2/job:Job').map((r) => [r.inputs.name ?? r.name, workload(r, 'job')])),
    services: new Map(graph.ofType('gcp:cloudrunv2/service:Service').map((r) => [r.inputs.name ?? r.name, workload(r, 'service')])),
    schedulers: graph.ofType('gcp:cloudscheduler/job:Job').map((r) => {
      const t = r.inputs.httpTarget ?? {};
      return {
        name: r.inputs.name ?? r.name,
        schedule: r.inputs.schedule,
        timeZone: r.inputs.timeZone,
        paused: Boolean(r.inputs.paused),
        method: t.httpMethod ?? 'POST',
        uri: t.uri,
        headers: t.headers ?? {},
        body: t.body ? Buffer.from(t.body, 'base64').toString('utf8') : '',
        oauthAccount: t.oauthToken?.serviceAccountEmail,
        oidcAccount: t.oidcToken?.serviceAccountEmail,
      };
    }),
    secrets,
    functions: graph.ofType('gcp:cloudfunctionsv2/function:Function').map((r) => {
      const s = r.inputs.serviceConfig ?? {};
      const b = r.inputs.buildConfig ?? {};
      return {
        name: r.inputs.name ?? r.name,
        entryPoint: b.entryPoint,
        serviceAccount: s.serviceAccountEmail,
        env: s.environmentVariables ?? {},
        secretEnv: (s.secretEnvironmentVariables ?? []).map((e: any) => ({ key: e.key, secret: e.secret, version: e.version ?? 'latest' })),
        source: b.source?.storageSource ? { bucket: b.source.storageSource.bucket, object: b.source.storageSource.object } : undefined,
        buildServiceAccount: b.serviceAccount,
        serviceName: r.state.serviceConfig?.service ?? `projects/${graph.project}/locations/${r.inputs.location}/services/${r.inputs.name}`,
        event: r.inputs.eventTrigger
          ? {
              type: r.inputs.eventTrigger.eventType,
              bucket: (r.inputs.eventTrigger.eventFilters ?? []).find((f: any) => f.attribute === 'bucket')?.value,
              serviceAccount: r.inputs.eventTrigger.serviceAccountEmail,
            }
          : undefined,
      };
    }),
    archives,
    sqlUsers: graph.ofType('gcp:sql/user:User').map((r) => ({ name: r.inputs.name, password: String(r.inputs.password ?? '') })),
    sqlDatabases: graph.ofType('gcp:sql/database:Database').map((r) => r.inputs.name),
    buckets: graph.ofType('gcp:storage/bucket:Bucket').map((r) => r.inputs.name ?? r.name),
    datasets: graph.ofType('gcp:bigquery/dataset:Dataset').map((r) => r.inputs.datasetId),
    filestores: graph.ofType('gcp:filestore/instance:Instance').map((r) => ({
      ip: r.state.networks?.[0]?.ipAddresses?.[0] ?? '',
      share: r.inputs.fileShares?.name ?? r.inputs.fileShares?.[0]?.name ?? '',
    })),
  };
}
