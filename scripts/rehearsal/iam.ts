/**
 * IAM as the graph grants it: every binding the program declares (project,
 * job, service, secret, bucket, dataset, service account), custom roles with
 * their declared permissions, predefined roles from a small table of the
 * roles the program uses. `check` answers like Google would: allowed when a
 * binding on the resource or on one of its ancestors (the project) grants
 * the permission to the caller.
 */
import type { Graph } from './graph.ts';

/** Permissions of the predefined roles the program uses (from Google's role reference, trimmed to what pipekit touches). */
export const PREDEFINED_ROLES: Readonly<Record<string, readonly string[]>> = {
  'roles/storage.objectAdmin': [
    'storage.objects.create',
    'storage.objects.delete',
    'storage.objects.get',
    'storage.objects.list',
    'storage.objects.update',
    'storage.multipartUploads.create',
    'storage.multipartUploads.abort',
    'storage.multipartUploads.list',
    'storage.multipartUploads.listParts',
  ],
  'roles/storage.objectCreator': [
    'storage.objects.create',
    'storage.multipartUploads.create',
    'storage.multipartUploads.abort',
    'storage.multipartUploads.listParts',
  ],
  'roles/storage.objectViewer': ['storage.objects.get', 'storage.objects.list'],
  'roles/storage.objectUser': [
    'storage.objects.create',
    'storage.objects.delete',
    'storage.objects.get',
    'storage.objects.list',
    'storage.objects.update',
  ],
  'roles/storage.admin': [
    'storage.buckets.create',
    'storage.buckets.delete',
    'storage.buckets.get',
    'storage.buckets.list',
    'storage.buckets.update',
    'storage.objects.create',
    'storage.objects.delete',
    'storage.objects.get',
    'storage.objects.list',
    'storage.objects.update',
  ],
  'roles/bigquery.dataEditor': [
    'bigquery.datasets.get',
    'bigquery.tables.create',
    'bigquery.tables.delete',
    'bigquery.tables.get',
    'bigquery.tables.getData',
    'bigquery.tables.list',
    'bigquery.tables.update',
    'bigquery.tables.updateData',
  ],
  'roles/bigquery.dataViewer': ['bigquery.datasets.get', 'bigquery.tables.get', 'bigquery.tables.getData', 'bigquery.tables.list'],
  'roles/bigquery.jobUser': ['bigquery.jobs.create'],
  'roles/bigquery.user': ['bigquery.jobs.create', 'bigquery.datasets.create', 'bigquery.datasets.get'],
  'roles/secretmanager.secretAccessor': ['secretmanager.versions.access'],
  'roles/cloudsql.client': ['cloudsql.instances.connect', 'cloudsql.instances.get'],
  'roles/cloudsql.instanceUser': ['cloudsql.instances.login', 'cloudsql.instances.get'],
  'roles/run.invoker': ['run.routes.invoke', 'run.jobs.run'],
  'roles/run.developer': [
    'run.jobs.run',
    'run.jobs.runWithOverrides',
    'run.jobs.get',
    'run.executions.get',
    'run.executions.list',
    'run.executions.cancel',
    'run.tasks.get',
    'run.tasks.list',
    'run.jobs.create',
    'run.jobs.update',
    'run.jobs.delete',
  ],
  'roles/run.viewer': ['run.jobs.get', 'run.jobs.list', 'run.executions.get', 'run.executions.list', 'run.tasks.get', 'run.tasks.list'],
  'roles/pubsub.publisher': ['pubsub.topics.publish'],
  'roles/eventarc.eventReceiver': ['eventarc.events.receiveEvent'],
  'roles/iam.serviceAccountUser': ['iam.serviceAccounts.actAs'],
  'roles/iam.serviceAccountTokenCreator': ['iam.serviceAccounts.getAccessToken', 'iam.serviceAccounts.getOpenIdToken'],
  'roles/logging.logWriter': ['logging.logEntries.create'],
  'roles/artifactregistry.reader': ['artifactregistry.repositories.downloadArtifacts'],
  'roles/artifactregistry.writer': ['artifactregistry.repositories.downloadArtifacts', 'artifactregistry.repositories.uploadArtifacts'],
  'roles/cloudbuild.builds.builder': [
    'artifactregistry.repositories.uploadArtifacts',
    'artifactregistry.repositories.downloadArtifacts',
    'logging.logEntries.create',
    'storage.objects.get',
    'storage.objects.list',
    'storage.objects.create',
  ],
  'roles/cloudscheduler.admin': [
    'cloudscheduler.jobs.get',
    'cloudscheduler.jobs.pause',
    'cloudscheduler.jobs.resume',
    'cloudscheduler.jobs.create',
    'cloudscheduler.jobs.update',
    'cloudscheduler.jobs.delete',
  ],
};

/** Which binding types exist, and how each names its resource. */
const BINDING_TYPES: Record<string, (inputs: Record<string, any>, graph: Graph) => string> = {
  'gcp:projects/iAMMember:IAMMember': (i) => `projects/${i.project}`,
  'gcp:cloudrunv2/jobIamMember:JobIamMember': (i, g) =>
    `projects/${i.project ?? g.project}/locations/${i.location ?? g.region}/jobs/${lastSegment(i.name)}`,
  'gcp:cloudrunv2/serviceIamMember:ServiceIamMember': (i, g) =>
    `projects/${i.project ?? g.project}/locations/${i.location ?? g.region}/services/${lastSegment(i.name)}`,
  'gcp:secretmanager/secretIamMember:SecretIamMember': (i, g) => `projects/${i.project ?? g.project}/secrets/${lastSegment(i.secretId)}`,
  'gcp:storage/bucketIAMMember:BucketIAMMember': (i) => `projects/_/buckets/${i.bucket}`,
  'gcp:bigquery/datasetIamMember:DatasetIamMember': (i, g) => `projects/${i.project ?? g.project}/datasets/${i.datasetId}`,
  'gcp:serviceaccount/iAMMember:IAMMember': (i) => `serviceAccounts/${lastSegment(i.serviceAccountId)}`,
  'gcp:artifactregistry/repositoryIamMember:RepositoryIamMember': (i, g) =>
    `projects/${i.project ?? g.project}/locations/${i.location ?? g.region}/repositories/${lastSegment(i.repository)}`,
};

export interface Binding {
  readonly member: string;
  readonly role: string;
  readonly resource: string;
  /** The Pulumi resource that declared it. */
  readonly declaredBy: string;
}

/** A decision the stand-ins took. */
export interface IamDecision {
  readonly account: string;
  readonly permission: string;
  readonly resource: string;
  readonly allowed: boolean;
  /** Who asked for it: `scheduler pipekit-x-daily`, `job pipekit-x`, … */
  readonly context: string;
}

export class IamPolicy {
  readonly bindings: Binding[] = [];
  readonly customRoles = new Map<string, readonly string[]>();
  /** Roles bound in the graph that the table above does not know: they grant nothing here, and the report lists them. */
  readonly unknownRoles = new Set<string>();
  readonly decisions: IamDecision[] = [];

  constructor(private readonly graph: Graph) {
    for (const role of graph.ofType('gcp:projects/iAMCustomRole:IAMCustomRole')) {
      this.customRoles.set(role.state.name, role.inputs.permissions ?? []);
    }
    for (const [type, resourceOf] of Object.entries(BINDING_TYPES)) {
      for (const r of graph.ofType(type)) {
        this.bindings.push({ member: r.inputs.member, role: r.inputs.role, resource: resourceOf(r.inputs, graph), declaredBy: r.name });
        if (!this.customRoles.has(r.inputs.role) && !PREDEFINED_ROLES[r.inputs.role]) this.unknownRoles.add(r.inputs.role);
      }
    }
  }

  permissionsOf(role: string): readonly string[] {
    return this.customRoles.get(role) ?? PREDEFINED_ROLES[role] ?? [];
  }

  /** The bindings that grant `permission` on `resource` (or its project) to `account`. */
  grantsFor(account: string, permission: string, resource: string): Binding[] {
    const members = new Set([`serviceAccount:${account}`, `user:${account}`, 'allUsers', 'allAuthenticatedUsers']);
    const scopes = new Set([resource, ...ancestors(resource, this.graph.project)]);
    return this.bindings.filter((b) => members.has(b.member) && scopes.has(b.resource) && this.permissionsOf(b.role).includes(permission));
  }

  /** Records and answers one decision; `owner` accounts (the deployer) hold every permission. */
  check(account: string, permission: string, resource: string, context: string): IamDecision {
    const allowed = this.owners.has(account) || this.grantsFor(account, permission, resource).length > 0;
    const decision = { account, permission, resource, allowed, context };
    this.decisions.push(decision);
    return decision;
  }

  /** Accounts with roles/owner outside the graph: the person who runs `pulumi up` and `gcloud`. */
  readonly owners = new Set<string>();

  refusals(): IamDecision[] {
    return this.decisions.filter((d) => !d.allowed);
  }

  /**
   * Granted but never used during the rehearsal: each binding whose role's
   * permissions no allowed decision needed (least privilege, issue 12 item 7).
   */
  unusedBindings(): Binding[] {
    return this.bindings.filter((b) => {
      const account = b.member.replace(/^serviceAccount:/, '');
      const perms = this.permissionsOf(b.role);
      return !this.decisions.some(
        (d) =>
          d.allowed &&
          d.account === account &&
          perms.includes(d.permission) &&
          (d.resource === b.resource || ancestors(d.resource, this.graph.project).includes(b.resource)),
      );
    });
  }
}

/** `projects/P/…` and bucket resources all sit under the project. */
export function ancestors(resource: string, project: string): string[] {
  const result: string[] = [];
  const bucket = /^(projects\/_\/buckets\/[^/]+)\/objects\//.exec(resource);
  if (bucket) result.push(bucket[1]!);
  if (resource !== `projects/${project}`) result.push(`projects/${project}`);
  return result;
}

/** A Google error body for a refused call, naming the account, the permission and the resource. */
export function permissionDenied(decision: IamDecision): {
  error: { code: number; message: string; status: string; errors: { reason: string; message: string }[] };
} {
  const message = `Permission '${decision.permission}' denied on resource '${decision.resource}' for ${decision.account} (or it may not exist).`;
  return { error: { code: 403, message, status: 'PERMISSION_DENIED', errors: [{ reason: 'forbidden', message }] } };
}

function lastSegment(value: string): string {
  return String(value).split('/').pop()!;
}
