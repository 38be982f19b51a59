import * as pulumi from '@pulumi/pulumi';
import { beforeAll, describe, expect, it } from 'vitest';
import { jobNameFor } from '../../src/cloud/naming.ts';
import { IMAGE, PROJECT, REGION, deployStack, makePipelinesDir, resolve, taxiPipelineYaml, type DeployedStack } from './harness.ts';

const GREEN_TRIGGERS = `  - { name: hourly, schedule: "@hourly", enabled: true }
  - { name: weekly_off, schedule: "@weekly", timezone: Europe/Berlin, enabled: false }
  - { name: morning, schedule: "30 6 * * *", timezone: Europe/Berlin }
  - { name: first_time, schedule: "@once" }
  - { name: on_upload, gcs: { bucket: raw-drop, prefix: green/ } }
  - { name: by_api, api: true }`;

let stack: DeployedStack;

/** How the engine receives a value marked secret (it stays encrypted in state). */
const secretValue = (value: string) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });

beforeAll(async () => {
  const dir = makePipelinesDir({
    yellow_taxi: taxiPipelineYaml('yellow_taxi'),
    green_taxi: taxiPipelineYaml('green_taxi', GREEN_TRIGGERS),
  });
  stack = await deployStack(dir, {
    domain: 'pipekit.example.com',
    allowedCidrs: ['203.0.113.7/32', '198.51.100.0/24'],
    userSecrets: { ALERT_WEBHOOK_URL: 'https://hooks.example.com/T000/B000/XXXX' },
  });
});

const cloudRun = () => [...stack.ofType('gcp:cloudrunv2/job:Job'), ...stack.ofType('gcp:cloudrunv2/service:Service')];
const containerOf = (r: { inputs: any }) => r.inputs.template.template?.containers?.[0] ?? r.inputs.template.containers[0];
const podOf = (r: { type: string; inputs: any }) => (r.type === 'gcp:cloudrunv2/job:Job' ? r.inputs.template.template : r.inputs.template);

describe('Cloud SQL', () => {
  it('has no public IP, only a private one on the pipekit VPC, and requires TLS', () => {
    const sql = stack.one('gcp:sql/databaseInstance:DatabaseInstance');
    expect(sql.inputs.settings.ipConfiguration).toMatchObject({ ipv4Enabled: false, sslMode: 'ENCRYPTED_ONLY' });
    expect(sql.inputs.settings.ipConfiguration.privateNetwork).toBe(`${stack.one('gcp:compute/network:Network').name}-id`);
    expect(sql.inputs.settings.ipConfiguration.authorizedNetworks ?? []).toEqual([]);
  });

  it('keeps daily backups and point-in-time recovery by default', () => {
    const backup = stack.one('gcp:sql/databaseInstance:DatabaseInstance').inputs.settings.backupConfiguration;
    expect(backup).toMatchObject({ enabled: true, pointInTimeRecoveryEnabled: true });
  });

  it('is deletion-protected by default, in Pulumi and in Google', () => {
    const sql = stack.one('gcp:sql/databaseInstance:DatabaseInstance');
    expect(sql.inputs.deletionProtection).toBe(true);
    expect(sql.inputs.settings.deletionProtectionEnabled).toBe(true);
  });

  it('holds the taxi data and the run history databases, and a user whose password is generated', () => {
    expect(
      stack
        .ofType('gcp:sql/database:Database')
        .map((d) => d.inputs.name)
        .sort(),
    ).toEqual(['ny_taxi', 'pipekit']);
    const user = stack.one('gcp:sql/user:User');
    expect(user.inputs.name).toBe('pipekit');
    expect(user.inputs.password).toEqual(secretValue('generated-pipekit-secrets-db-password'));
  });
});

describe('IAM', () => {
  const everyInput = () => JSON.stringify(stack.resources.map((r) => r.inputs));

  it('never grants anything to allUsers or allAuthenticatedUsers (with the default config, functions included)', () => {
    expect(stack.ofType('gcp:cloudfunctionsv2/function:Function').length).toBeGreaterThanOrEqual(3);
    expect(everyInput()).not.toMatch(/allUsers|allAuthenticatedUsers/);
  });

  it('never grants Owner or Editor', () => {
    const roles = stack.resources.map((r) => r.inputs.role).filter(Boolean);
    expect(roles.length).toBeGreaterThan(5);
    expect(roles).not.toContain('roles/owner');
    expect(roles).not.toContain('roles/editor');
  });

  it('creates no service account keys', () => {
    expect(stack.ofType('gcp:serviceaccount/key:Key')).toEqual([]);
  });

  it('grants project-wide only what cannot be scoped to a resource', () => {
    const grants = stack.ofType('gcp:projects/iAMMember:IAMMember').map((r) => `${r.inputs.member} ${r.inputs.role}`);
    expect(grants.sort()).toEqual([
      // Builds write their logs (logging has no narrower scope), and read the functions' source copies (conditioned to those buckets).
      `serviceAccount:pipekit-build@${PROJECT}.iam.gserviceaccount.com roles/logging.logWriter`,
      `serviceAccount:pipekit-build@${PROJECT}.iam.gserviceaccount.com roles/storage.objectViewer`,
      `serviceAccount:pipekit-console@${PROJECT}.iam.gserviceaccount.com projects/${PROJECT}/roles/pipekit_scheduler_toggle`,
      // Eventarc delivers the gcs trigger's events to the functions' account.
      `serviceAccount:pipekit-functions@${PROJECT}.iam.gserviceaccount.com roles/eventarc.eventReceiver`,
      `serviceAccount:pipekit-jobs@${PROJECT}.iam.gserviceaccount.com roles/bigquery.jobUser`,
      // Cloud Storage's service agent publishes the object events (only when a gcs trigger exists).
      'serviceAccount:service-123456789@gs-project-accounts.iam.gserviceaccount.com roles/pubsub.publisher',
    ]);
  });

  it('gives the jobs object admin on the lake bucket and data editor on the dataset only', () => {
    const bucket = stack.ofType('gcp:storage/bucketIAMMember:BucketIAMMember').map((r) => `${r.inputs.member} ${r.inputs.role}`);
    expect(bucket).toContain(`serviceAccount:pipekit-jobs@${PROJECT}.iam.gserviceaccount.com roles/storage.objectAdmin`);
    const dataset = stack.ofType('gcp:bigquery/datasetIamMember:DatasetIamMember').map((r) => `${r.inputs.member} ${r.inputs.role}`);
    expect(dataset).toContain(`serviceAccount:pipekit-jobs@${PROJECT}.iam.gserviceaccount.com roles/bigquery.dataEditor`);
  });

  it('grants secret access per secret, to the accounts that read it', () => {
    const readers = stack.ofType('gcp:secretmanager/secretIamMember:SecretIamMember');
    expect(readers.every((r) => r.inputs.role === 'roles/secretmanager.secretAccessor')).toBe(true);
    const apiToken = readers.filter((r) => r.inputs.secretId === 'pipekit-api-token').map((r) => r.inputs.member);
    // The console, and once (from the Functions component) the functions' account.
    expect(apiToken.sort()).toEqual([
      `serviceAccount:pipekit-console@${PROJECT}.iam.gserviceaccount.com`,
      `serviceAccount:pipekit-functions@${PROJECT}.iam.gserviceaccount.com`,
    ]);
  });

  it('lets the scheduler start each job with overrides through a custom role bound on that job only', () => {
    const role = stack.one('gcp:projects/iAMCustomRole:IAMCustomRole', 'pipekit-accounts-job-runner');
    expect(role.inputs.permissions).toEqual(expect.arrayContaining(['run.jobs.run', 'run.jobs.runWithOverrides']));
    expect(role.inputs.permissions).not.toContain('run.executions.cancel');
    const bindings = stack.ofType('gcp:cloudrunv2/jobIamMember:JobIamMember').filter((b) => b.inputs.member.includes('pipekit-scheduler@'));
    expect(bindings.map((b) => b.inputs.name).sort()).toEqual(['pipekit-green-taxi', 'pipekit-yellow-taxi']);
    expect(bindings.every((b) => b.inputs.role === `projects/${PROJECT}/roles/pipekit_job_runner`)).toBe(true);
  });
});

describe('secrets', () => {
  it('reach Cloud Run only by secretKeyRef, never as a plain value', () => {
    for (const r of cloudRun()) {
      const envs: any[] = containerOf(r).envs;
      const secretLike = envs.filter((e) => /PASSWORD|TOKEN|SECRET|WEBHOOK/.test(e.name));
      expect(secretLike.length).toBeGreaterThanOrEqual(2);
      for (const env of secretLike) {
        expect(env.value).toBeUndefined();
        expect(env.valueSource.secretKeyRef).toMatchObject({ version: 'latest' });
      }
      expect(JSON.stringify(r.inputs)).not.toMatch(/generated-|hooks\.example\.com/);
    }
  });

  it('maps PIPEKIT_DB_PASSWORD to the Secret Manager secret holding the generated password', () => {
    const job = stack.one('gcp:cloudrunv2/job:Job', 'pipekit-yellow-taxi-job');
    const env = containerOf(job).envs.find((e: any) => e.name === 'PIPEKIT_DB_PASSWORD');
    expect(env.valueSource.secretKeyRef.secret).toBe('pipekit-db-password');
    const version = stack.one('gcp:secretmanager/secretVersion:SecretVersion', 'pipekit-secrets-pipekit-db-password-v');
    expect(version.inputs.secretData).toEqual(secretValue('generated-pipekit-secrets-db-password'));
  });

  it('gives the console the API token and both workloads the user secrets', () => {
    const service = stack.one('gcp:cloudrunv2/service:Service');
    const names = containerOf(service).envs.map((e: any) => e.name);
    expect(names).toEqual(expect.arrayContaining(['PIPEKIT_API_TOKEN', 'ALERT_WEBHOOK_URL', 'PIPEKIT_DB_PASSWORD']));
    const job = stack.one('gcp:cloudrunv2/job:Job', 'pipekit-green-taxi-job');
    expect(containerOf(job).envs.map((e: any) => e.name)).toContain('ALERT_WEBHOOK_URL');
  });
});

describe('pipeline jobs', () => {
  it('deploys one Cloud Run job per pipeline folder, named by jobNameFor', async () => {
    const jobs = stack.ofType('gcp:cloudrunv2/job:Job');
    expect(jobs.map((j) => j.inputs.name).sort()).toEqual(
      [jobNameFor('pipekit', 'green_taxi'), jobNameFor('pipekit', 'yellow_taxi')].sort(),
    );
    expect(await resolve(stack.outputs.jobNames)).toEqual({ green_taxi: 'pipekit-green-taxi', yellow_taxi: 'pipekit-yellow-taxi' });
  });

  it('runs `run <pipeline>` from the image pinned by digest, with the resources of pipeline.yaml', () => {
    const job = stack.one('gcp:cloudrunv2/job:Job', 'pipekit-yellow-taxi-job');
    const container = containerOf(job);
    expect(container.image).toBe(IMAGE);
    expect(container.image).toContain('@sha256:');
    expect(container.args).toEqual(['run', 'yellow_taxi']);
    expect(container.resources.limits).toEqual({ cpu: '2', memory: '4Gi' });
    expect(job.inputs.template).toMatchObject({ taskCount: 1, parallelism: 4 });
    expect(job.inputs.template.template).toMatchObject({
      timeout: '3600s',
      maxRetries: 0,
      serviceAccount: `pipekit-jobs@${PROJECT}.iam.gserviceaccount.com`,
    });
    expect(job.inputs.location).toBe(REGION);
    expect(job.inputs.deletionProtection).toBe(true);
  });

  it('sets the runtime contract env the cloud profile reads', () => {
    const env = Object.fromEntries(
      containerOf(stack.one('gcp:cloudrunv2/job:Job', 'pipekit-yellow-taxi-job')).envs.map((e: any) => [e.name, e.value ?? 'secretKeyRef']),
    );
    expect(env).toMatchObject({
      PIPEKIT_PROFILE: 'cloud',
      GOOGLE_CLOUD_PROJECT: PROJECT,
      PIPEKIT_REGION: REGION,
      PIPEKIT_DB_HOST: '10.100.0.3',
      PIPEKIT_DB_USER: 'pipekit',
      PIPEKIT_DB_PASSWORD: 'secretKeyRef',
      PIPEKIT_DB_NAME: 'ny_taxi',
      PIPEKIT_RUNS_DB_NAME: 'pipekit',
      PIPEKIT_LAKE_BUCKET: `${PROJECT}-pipekit-lake`,
      PIPEKIT_BQ_DATASET: 'ny_taxi',
      PIPEKIT_BQ_LOCATION: 'US',
      PIPEKIT_WORKSPACE: '/mnt/workspace',
      PIPEKIT_JOB_PREFIX: 'pipekit',
    });
  });

  it('mounts the Filestore share as a native NFS volume on every job and the console, over Direct VPC egress', () => {
    const filestore = stack.one('gcp:filestore/instance:Instance');
    const share = filestore.inputs.fileShares.name;
    const workloads = cloudRun();
    expect(workloads).toHaveLength(3);
    for (const r of workloads) {
      const pod = podOf(r);
      expect(pod.volumes).toEqual([{ name: 'workspace', nfs: { server: '10.100.1.2', path: `/${share}`, readOnly: false } }]);
      expect(containerOf(r).volumeMounts).toEqual([{ name: 'workspace', mountPath: '/mnt/workspace' }]);
      expect(pod.vpcAccess.networkInterfaces[0].subnetwork).toBe('pipekit-network-subnet-id');
      expect(pod.vpcAccess.connector).toBeUndefined();
    }
  });
});

describe('Cloud Scheduler', () => {
  const schedulers = () => stack.ofType('gcp:cloudscheduler/job:Job');
  const byName = (name: string) => schedulers().find((s) => s.inputs.name === name)!;

  it('creates one scheduler per schedule trigger, none for @once, GCS or API triggers', async () => {
    expect(
      schedulers()
        .map((s) => s.inputs.name)
        .sort(),
    ).toEqual([
      'pipekit-green-taxi-hourly',
      'pipekit-green-taxi-morning',
      'pipekit-green-taxi-weekly_off',
      // Not a trigger: the reconciler's pass (infra/components/reconcile-schedule.ts).
      'pipekit-reconcile',
      'pipekit-yellow-taxi-daily',
    ]);
    expect((await resolve(stack.outputs.schedulerJobs)).length).toBe(4);
  });

  it("POSTs to the job's v2 :run URL with an OAuth token of the scheduler account", () => {
    const s = byName('pipekit-yellow-taxi-daily');
    expect(s.inputs.httpTarget).toMatchObject({
      httpMethod: 'POST',
      uri: `https://run.googleapis.com/v2/projects/${PROJECT}/locations/${REGION}/jobs/pipekit-yellow-taxi:run`,
      oauthToken: {
        serviceAccountEmail: `pipekit-scheduler@${PROJECT}.iam.gserviceaccount.com`,
        scope: 'https://www.googleapis.com/auth/cloud-platform',
      },
    });
    expect(s.inputs.httpTarget.oidcToken).toBeUndefined();
  });

  it('sends the trigger name in a base64 body so the job computes its own execution date', () => {
    const body = JSON.parse(Buffer.from(byName('pipekit-yellow-taxi-daily').inputs.httpTarget.body, 'base64').toString('utf8'));
    expect(body).toEqual({ overrides: { containerOverrides: [{ args: ['run', 'yellow_taxi', '--trigger', 'daily'] }] } });
  });

  it("turns presets into cron in the trigger's time zone, pauses disabled triggers, and retries with a deadline", () => {
    expect(byName('pipekit-yellow-taxi-daily').inputs).toMatchObject({
      schedule: '0 0 * * *',
      timeZone: 'America/New_York',
      paused: false,
    });
    expect(byName('pipekit-green-taxi-hourly').inputs).toMatchObject({ schedule: '0 * * * *', timeZone: 'UTC' });
    expect(byName('pipekit-green-taxi-weekly_off').inputs).toMatchObject({
      schedule: '0 0 * * 1',
      timeZone: 'Europe/Berlin',
      paused: true,
    });
    expect(byName('pipekit-green-taxi-morning').inputs).toMatchObject({ schedule: '30 6 * * *', timeZone: 'Europe/Berlin' });
    for (const s of schedulers()) {
      expect(s.inputs.attemptDeadline).toMatch(/^\d+s$/);
      expect(s.inputs.retryConfig.retryCount).toBeGreaterThan(0);
      expect(s.inputs.region).toBe(REGION);
    }
  });
});

describe('console and load balancer', () => {
  it('runs the console on Cloud Run, scaling to zero, reachable only through the load balancer', () => {
    const service = stack.one('gcp:cloudrunv2/service:Service');
    expect(service.inputs).toMatchObject({
      ingress: 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER',
      invokerIamDisabled: true,
      deletionProtection: true,
    });
    expect(service.inputs.template.scaling.minInstanceCount).toBe(0);
    expect(containerOf(service).args).toEqual(['console', '--port', '8080']);
    expect(containerOf(service).image).toBe(IMAGE);
  });

  it('puts a Cloud Armor policy with WAF, allowlist, rate limit and default deny on the backend', () => {
    const policy = stack.one('gcp:compute/securityPolicy:SecurityPolicy');
    const rules: any[] = policy.inputs.rules;
    const byPriority = [...rules].sort((a, b) => a.priority - b.priority);
    const last = byPriority.at(-1);
    expect(last).toMatchObject({ priority: 2147483647, action: 'deny(403)', match: { config: { srcIpRanges: ['*'] } } });
    const waf = rules.filter((r) => r.match.expr?.expression.includes('evaluatePreconfiguredWaf')).map((r) => r.match.expr.expression);
    expect(waf.join()).toMatch(/sqli-v33-stable/);
    expect(waf.join()).toMatch(/xss-v33-stable/);
    const allow = rules.filter((r) => r.action === 'throttle');
    expect(allow.flatMap((r) => r.match.config.srcIpRanges)).toEqual(['203.0.113.7/32', '198.51.100.0/24']);
    expect(allow[0].rateLimitOptions).toMatchObject({
      conformAction: 'allow',
      exceedAction: 'deny(429)',
      rateLimitThreshold: { count: 600, intervalSec: 60 },
    });
    expect(rules.every((r) => r.action !== 'allow' || r.priority < last.priority)).toBe(true);
    // WAF denies come before the allowlist, so an allowlisted client cannot inject either.
    expect(Math.max(...rules.filter((r) => r.match.expr).map((r) => r.priority))).toBeLessThan(Math.min(...allow.map((r) => r.priority)));
    const backend = stack.one('gcp:compute/backendService:BackendService');
    expect(backend.inputs.securityPolicy).toBe(policy.state.selfLink);
    expect(backend.inputs.logConfig).toEqual({ enable: true, sampleRate: 1 });
  });

  it('serves HTTPS with a managed certificate and a modern TLS policy, and redirects HTTP', async () => {
    expect(stack.one('gcp:compute/managedSslCertificate:ManagedSslCertificate').inputs.managed.domains).toEqual(['pipekit.example.com']);
    expect(stack.one('gcp:compute/sSLPolicy:SSLPolicy').inputs).toMatchObject({ profile: 'MODERN', minTlsVersion: 'TLS_1_2' });
    const rules = stack
      .ofType('gcp:compute/globalForwardingRule:GlobalForwardingRule')
      .map((r) => r.inputs.portRange)
      .sort();
    expect(rules).toEqual(['443', '80']);
    const redirect = stack.ofType('gcp:compute/uRLMap:URLMap').find((m) => m.inputs.defaultUrlRedirect);
    expect(redirect?.inputs.defaultUrlRedirect.httpsRedirect).toBe(true);
    expect(stack.one('gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup').inputs).toMatchObject({
      networkEndpointType: 'SERVERLESS',
      cloudRun: { service: 'pipekit-console' },
    });
    expect(await resolve(stack.outputs.consoleUrl)).toBe('https://pipekit.example.com');
  });
});

describe('foundation', () => {
  it('enables every API the stack uses', () => {
    const services = stack.ofType('gcp:projects/service:Service').map((s) => s.inputs.service);
    for (const api of [
      'compute',
      'file',
      'cloudscheduler',
      'servicenetworking',
      'bigquery',
      'sqladmin',
      'run',
      'secretmanager',
      'artifactregistry',
    ]) {
      expect(services).toContain(`${api}.googleapis.com`);
    }
  });

  it('uses a dedicated VPC with private services access, no connector', () => {
    expect(stack.one('gcp:compute/network:Network').inputs.autoCreateSubnetworks).toBe(false);
    expect(stack.one('gcp:servicenetworking/connection:Connection').inputs.service).toBe('servicenetworking.googleapis.com');
    expect(stack.ofType('gcp:vpcaccess/connector:Connector')).toEqual([]);
  });

  it('keeps the lake bucket private and the dataset in the configured location', () => {
    expect(stack.one('gcp:storage/bucket:Bucket', 'pipekit-data-lake').inputs).toMatchObject({
      uniformBucketLevelAccess: true,
      publicAccessPrevention: 'enforced',
      forceDestroy: false,
      location: REGION,
    });
    expect(stack.one('gcp:bigquery/dataset:Dataset').inputs).toMatchObject({
      datasetId: 'ny_taxi',
      location: 'US',
      deleteContentsOnDestroy: false,
    });
  });

  it('exports what users need to connect and run', async () => {
    expect(await resolve(stack.outputs.sqlConnectionName)).toBe(`${PROJECT}:${REGION}:pipekit-db-instance`);
    expect(await resolve(stack.outputs.lakeBucket)).toBe(`${PROJECT}-pipekit-lake`);
    expect(await resolve(stack.outputs.bigqueryDataset)).toBe('ny_taxi');
    expect(await resolve(stack.outputs.imageRepository)).toBe(`${REGION}-docker.pkg.dev/${PROJECT}/pipekit`);
    expect(stack.outputs.nextStep).toBeUndefined();
  });
});
