/**
 * The deployment, run for real on this machine: the graph the Pulumi program
 * declares, executed as Google would execute it. Cloud Scheduler's requests
 * go to a Run API stand-in that starts the job's containers from the image
 * tree; containers reach Cloud SQL, Cloud Storage, BigQuery and Secret
 * Manager through stand-ins that enforce the graph's IAM; the functions run
 * from the source archive the program uploads. Everything that happened is
 * kept for the report (report.ts).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve as resolvePath } from 'node:path';
import pg from 'pg';
import { ARCHIVE_ENTRY, functionSourceFiles } from '../../infra/components/function-source.ts';
import { REPO_ROOT } from '../../infra/pipelines-source.ts';
import { startBigQueryFake, type BigQueryFake } from '../../test/support/bigquery-fake.ts';
import { startGcsFake, type GcsFake } from '../../test/support/gcs-fake.ts';
import { startRunApiFake, type RunApiFake } from '../../test/support/run-api-fake.ts';
import { makeServerCertificate, startCloudSql, type CloudSqlStandIn } from './cloud-sql.ts';
import { realMounts, startContainer, type ContainerResult, type RunningContainer } from './container.ts';
import { readDeployment, type Deployment, type FunctionDecl, type WorkloadDecl } from './deployment.ts';
import { bigqueryNeeds, runApiNeeds, startGateway, storageNeeds, TOKEN_PREFIX, type Gateway } from './gateway.ts';
import { declareStack, SQL_PRIVATE_IP, type DeclareOptions, type Graph } from './graph.ts';
import { IamPolicy, permissionDenied } from './iam.ts';
import { imageRepository, imageStages } from './build.ts';
import { assembleImageTree, type ImageTree } from './image-tree.ts';
import { startInternet, type Internet } from './internet.ts';
import { startMetadataServer, type MetadataServer } from './metadata-server.ts';

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
}

export interface RehearsalOptions {
  /** The local PostgreSQL that plays Cloud SQL (a superuser login). */
  readonly postgres: PostgresServer;
  /** Stack config on top of the rehearsal's defaults. */
  readonly config?: Record<string, unknown>;
  /** The build context (the repository). */
  readonly context?: string;
  /** A pipelines folder deployed instead of the repository's (the image and the program both get it). */
  readonly pipelinesDir?: string;
  readonly taxiRows?: number;
  /** Passed to declareStack (a test runner's fresh import). */
  readonly importProgram?: DeclareOptions['importProgram'];
  readonly log?: (line: string) => void;
}

export interface TaskRun {
  readonly index: number;
  readonly attempt: number;
  readonly exitCode: number;
  readonly ms: number;
  readonly output: string;
}

export interface Execution {
  readonly job: string;
  readonly execution: string;
  /** Who started it: the scheduler job, `gcloud run jobs execute`, a function, `pulumi up`. */
  source: string;
  readonly args: string[];
  readonly taskCount: number;
  status: 'running' | 'succeeded' | 'failed';
  /** Why it could not start (image, secret access). */
  startError?: string;
  readonly tasks: TaskRun[];
  ms: number;
}

export interface SchedulerFiring {
  readonly scheduler: string;
  readonly method: string;
  readonly url: string;
  readonly body: string;
  readonly account?: string;
  readonly status: number;
  readonly response: string;
  readonly executions: Execution[];
}

export interface ServiceStart {
  readonly service: string;
  readonly ready: boolean;
  readonly url?: string;
  readonly output: string;
  readonly container?: RunningContainer;
}

export const DEPLOYER = 'deployer@rehearsal.example.com';

export class Rehearsal {
  readonly executions: Execution[] = [];
  readonly firings: SchedulerFiring[] = [];
  readonly services: ServiceStart[] = [];
  readonly notes: string[] = [];
  /** Cloud SQL presents a certificate from a CA the graph does not know (a man in the middle). */
  sqlImpostor = false;
  private readonly pending = new Set<Promise<void>>();
  private readonly perAccount = new Map<string, Promise<{ gcs: Gateway; bq: Gateway; run: Gateway; metadata: MetadataServer }>>();
  private readonly functionProcs = new Map<string, Promise<{ url: string; container: RunningContainer }>>();
  private closers: (() => Promise<unknown> | unknown)[] = [];
  private readonly trees = new Map<string, ImageTree>();

  constructor(
    readonly graph: Graph,
    readonly deployment: Deployment,
    readonly policy: IamPolicy,
    readonly tree: ImageTree,
    private readonly stages: Map<string, string>,
    readonly gcs: GcsFake,
    readonly bigquery: BigQueryFake,
    readonly runApi: RunApiFake,
    readonly cloudSql: CloudSqlStandIn,
    readonly internet: Internet,
    readonly filestore: Map<string, string>,
    readonly workDir: string,
    readonly databases: { user: string; password: string; names: string[] },
    readonly options: RehearsalOptions,
  ) {}

  log(line: string): void {
    this.options.log?.(line);
  }

  /** Sends exactly the scheduler job's HTTP request, as its account, and waits for what it started. */
  async fireScheduler(name: string): Promise<SchedulerFiring> {
    const scheduler = this.deployment.schedulers.find((s) => s.name === name);
    if (!scheduler)
      throw new Error(
        `no Cloud Scheduler job ${name} in the graph (there are: ${this.deployment.schedulers.map((s) => s.name).join(', ') || 'none'})`,
      );
    const target = new URL(scheduler.uri);
    if (target.hostname !== 'run.googleapis.com')
      throw new Error(`scheduler ${name} calls ${target.hostname}; the rehearsal stands in for run.googleapis.com only`);
    const account = scheduler.oauthAccount ?? scheduler.oidcAccount;
    const edge = await this.edgeFor(account ?? 'allUsers', `scheduler ${name}`);
    const headers: Record<string, string> = { ...scheduler.headers, 'User-Agent': 'Google-Cloud-Scheduler' };
    if (account) headers.Authorization = `Bearer ${TOKEN_PREFIX}${account}`;
    const before = this.executions.length;
    const response = await fetch(`${edge.run.url}${target.pathname}${target.search}`, {
      method: scheduler.method,
      headers,
      body: scheduler.body || undefined,
    });
    const text = await response.text();
    await this.settle();
    const firing = {
      scheduler: name,
      method: scheduler.method,
      url: scheduler.uri,
      body: scheduler.body,
      account,
      status: response.status,
      response: text,
      executions: this.startedBy(text, before),
    };
    for (const e of firing.executions) e.source = `scheduler ${name}`;
    this.firings.push(firing);
    return firing;
  }

  /** `gcloud run jobs execute <job> [--args=…] [--tasks=N]` as `caller` (the deployer by default). */
  async executeJob(
    job: string,
    options: { args?: string[]; tasks?: number; env?: Record<string, string>; caller?: string; why?: string } = {},
  ): Promise<{ status: number; response: string; executions: Execution[] }> {
    const decl = this.deployment.jobs.get(job);
    if (!decl) throw new Error(`no Cloud Run job ${job} in the graph (there are: ${[...this.deployment.jobs.keys()].join(', ')})`);
    const caller = options.caller ?? DEPLOYER;
    const edge = await this.edgeFor(caller, `gcloud run jobs execute ${job}`);
    const container: Record<string, unknown> = {};
    if (options.args) container.args = options.args;
    if (options.env) container.env = Object.entries(options.env).map(([name, value]) => ({ name, value }));
    const overrides: Record<string, unknown> = {};
    if (Object.keys(container).length) overrides.containerOverrides = [container];
    if (options.tasks !== undefined) overrides.taskCount = options.tasks;
    const before = this.executions.length;
    const response = await fetch(`${edge.run.url}/v2/${decl.resourceName}:run`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN_PREFIX}${caller}` },
      body: JSON.stringify(Object.keys(overrides).length ? { overrides } : {}),
    });
    const text = await response.text();
    await this.settle();
    const executions = this.startedBy(text, before);
    for (const e of executions) e.source = `gcloud run jobs execute as ${caller}${options.why ? ` (${options.why})` : ''}`;
    return { status: response.status, response: text, executions };
  }

  /** The execution a Run API answer names (an operation whose metadata is the execution). */
  private startedBy(response: string, before: number): Execution[] {
    let name: string | undefined;
    try {
      name = (JSON.parse(response) as { metadata?: { name?: string } }).metadata?.name;
    } catch {
      name = undefined;
    }
    return name ? this.executions.filter((e) => e.execution === name) : this.executions.slice(before).filter(() => false);
  }

  /** A new object in a bucket: Cloud Storage → Eventarc → each function whose trigger watches the bucket. */
  async fireGcsEvent(
    bucket: string,
    object: string,
    data: Buffer | string,
  ): Promise<{ delivered: { fn: string; status: number; body: string }[]; executions: Execution[] }> {
    if (!this.gcs.buckets.has(bucket)) this.gcs.createBucket(bucket);
    const stored = this.gcs.buckets.get(bucket)!;
    const generation = Date.now();
    stored.set(object, { data: Buffer.from(data), contentType: 'application/octet-stream', generation, updated: new Date().toISOString() });
    const before = this.executions.length;
    const delivered: { fn: string; status: number; body: string }[] = [];
    for (const fn of this.deployment.functions) {
      if (fn.event?.type !== 'google.cloud.storage.object.v1.finalized' || fn.event.bucket !== bucket) continue;
      const agent = 'service-123456789@gs-project-accounts.iam.gserviceaccount.com';
      const publish = this.policy.check(
        agent,
        'pubsub.topics.publish',
        `projects/${this.graph.project}`,
        `Cloud Storage notification for ${fn.name}`,
      );
      const eventAccount = fn.event.serviceAccount ?? `123456789-compute@developer.gserviceaccount.com`;
      const receive = this.policy.check(
        eventAccount,
        'eventarc.events.receiveEvent',
        `projects/${this.graph.project}`,
        `Eventarc trigger of ${fn.name}`,
      );
      const invoke = this.policy.check(eventAccount, 'run.routes.invoke', fn.serviceName, `Eventarc delivery to ${fn.name}`);
      if (!publish.allowed || !receive.allowed || !invoke.allowed) {
        delivered.push({ fn: fn.name, status: 403, body: 'Eventarc could not deliver the event (see the refused IAM decisions)' });
        continue;
      }
      const { url } = await this.startFunction(fn);
      const id = randomBytes(6).toString('hex');
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'ce-specversion': '1.0',
          'ce-id': id,
          'ce-source': `//storage.googleapis.com/projects/_/buckets/${bucket}`,
          'ce-type': 'google.cloud.storage.object.v1.finalized',
          'ce-subject': `objects/${object}`,
          'ce-time': new Date().toISOString(),
        },
        body: JSON.stringify({
          bucket,
          name: object,
          size: String(Buffer.byteLength(data)),
          contentType: 'application/octet-stream',
          generation: String(generation),
          timeCreated: new Date().toISOString(),
        }),
      });
      delivered.push({ fn: fn.name, status: response.status, body: await response.text() });
    }
    await this.settle();
    const executions = this.executions.slice(before);
    for (const e of executions) if (!e.source) e.source = `${delivered.map((d) => d.fn).join(', ')} for gs://${bucket}/${object}`;
    return { delivered, executions };
  }

  /**
   * An HTTP function called through Google's front end: Cloud Run checks the
   * caller may invoke its service (`run.routes.invoke`), then the request
   * reaches the function with the caller's identity token.
   */
  async callFunction(name: string, body: unknown, caller = DEPLOYER): Promise<{ status: number; body: string; executions: Execution[] }> {
    const fn = this.deployment.functions.find((f) => f.name === name || f.entryPoint === name);
    if (!fn) throw new Error(`no function ${name} in the graph (there are: ${this.deployment.functions.map((f) => f.name).join(', ')})`);
    const invoke = this.policy.check(caller, 'run.routes.invoke', fn.serviceName, `HTTP call to ${fn.name}`);
    if (!invoke.allowed) return { status: 403, body: JSON.stringify(permissionDenied(invoke)), executions: [] };
    const { url } = await this.startFunction(fn);
    const before = this.executions.length;
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN_PREFIX}${caller}` },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    await this.settle();
    const executions = this.executions.slice(before);
    for (const e of executions) if (!e.source) e.source = `${fn.name} called by ${caller}`;
    return { status: response.status, body: text, executions };
  }

  /** Starts a Cloud Run service (the console) and waits until it answers on its port, or exits. */
  async startService(name: string, timeoutMs = 30_000): Promise<ServiceStart> {
    const decl = this.deployment.services.get(name);
    if (!decl) throw new Error(`no Cloud Run service ${name} in the graph`);
    const port = await freePort();
    const declared = decl.container.port ?? 8080;
    // Cloud Run sends traffic to the container port; here it is a free port of this machine (no network namespace).
    const args = (decl.container.args ?? []).map((a) => (a === String(declared) ? String(port) : a));
    const prepared = await this.prepare(decl, `service ${name}`);
    if ('error' in prepared) {
      const start = { service: name, ready: false, output: prepared.error };
      this.services.push(start);
      return start;
    }
    const container = startContainer({
      tree: this.treeFor(decl.container.image),
      command: decl.container.command,
      args,
      env: { ...prepared.env, PORT: String(port), K_SERVICE: name, K_REVISION: `${name}-00001`, K_CONFIGURATION: name },
      mounts: prepared.mounts,
      network: prepared.network,
      label: name,
    });
    this.closers.push(() => container.stop());
    const url = `http://127.0.0.1:${port}`;
    let exited = false;
    void container.done.then(() => (exited = true));
    const deadline = Date.now() + timeoutMs;
    let ready = false;
    while (!exited && Date.now() < deadline) {
      try {
        const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(1000) });
        await res.body?.cancel();
        if (res.status < 500) {
          ready = true;
          break;
        }
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const start = { service: name, ready, url: ready ? url : undefined, output: container.output(), container };
    this.services.push(start);
    return start;
  }

  /** Waits for every execution started so far. */
  async settle(): Promise<void> {
    while (this.pending.size) await Promise.all([...this.pending]);
  }

  /** Rows of a table in one of the deployment's Cloud SQL databases. */
  async sql<T = Record<string, unknown>>(database: string, text: string): Promise<T[]> {
    const client = new pg.Client({
      host: this.options.postgres.host,
      port: this.options.postgres.port,
      user: this.options.postgres.user,
      password: this.options.postgres.password,
      database,
    });
    await client.connect();
    try {
      return (await client.query(text)).rows as T[];
    } finally {
      await client.end();
    }
  }

  async close(): Promise<void> {
    await this.settle().catch(() => undefined);
    for (const close of this.closers.reverse()) await Promise.resolve(close()).catch(() => undefined);
    for (const p of this.perAccount.values()) {
      const e = await p;
      await Promise.all([e.gcs.close(), e.bq.close(), e.run.close(), e.metadata.close()]);
    }
    await Promise.all([this.gcs.close(), this.bigquery.close(), this.runApi.close(), this.cloudSql.close(), this.internet.close()]);
    const admin = new pg.Client({ ...this.options.postgres, database: 'postgres' });
    await admin.connect();
    try {
      for (const name of this.databases.names) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await admin.query(`DROP ROLE IF EXISTS "${this.databases.user}"`);
    } finally {
      await admin.end();
    }
    rmSync(this.workDir, { recursive: true, force: true });
  }

  /** Cloud Run starting an execution the Run API accepted. */
  onRun(jobResource: string, body: any, execution: string): void {
    const run = this.runExecution(jobResource, body, execution).finally(() => this.pending.delete(run));
    this.pending.add(run);
  }

  private async runExecution(jobResource: string, body: any, executionName: string): Promise<void> {
    const name = jobResource.split('/').pop()!;
    const decl = this.deployment.jobs.get(name)!;
    const overrides = body?.overrides ?? {};
    const container = overrides.containerOverrides?.[0] ?? {};
    const args: string[] = container.clearArgs ? [] : (container.args ?? decl.container.args ?? []);
    const taskCount = Number(overrides.taskCount ?? decl.taskCount ?? 1);
    const execution: Execution = { job: name, execution: executionName, source: '', args, taskCount, status: 'running', tasks: [], ms: 0 };
    this.executions.push(execution);
    const started = Date.now();
    const prepared = await this.prepare(decl, `job ${name}`);
    if ('error' in prepared) {
      execution.status = 'failed';
      execution.startError = prepared.error;
      execution.ms = Date.now() - started;
      return;
    }
    const overrideEnv = Object.fromEntries((container.env ?? []).map((e: { name: string; value: string }) => [e.name, e.value]));
    const parallelism = decl.parallelism > 0 ? decl.parallelism : taskCount;
    const queue = Array.from({ length: taskCount }, (_, i) => i);
    const worker = async () => {
      for (let index = queue.shift(); index !== undefined; index = queue.shift()) {
        for (let attempt = 0; attempt <= decl.maxRetries; attempt++) {
          const env = {
            ...prepared.env,
            ...overrideEnv,
            CLOUD_RUN_JOB: name,
            CLOUD_RUN_EXECUTION: executionName.split('/').pop()!,
            CLOUD_RUN_TASK_INDEX: String(index),
            CLOUD_RUN_TASK_COUNT: String(taskCount),
            CLOUD_RUN_TASK_ATTEMPT: String(attempt),
          };
          this.log(`▶ ${name} task ${index}/${taskCount} attempt ${attempt}: ${args.join(' ')}`);
          const result: ContainerResult = await startContainer({
            tree: this.treeFor(decl.container.image),
            command: decl.container.command,
            args,
            env,
            mounts: prepared.mounts,
            network: prepared.network,
            label: `${name}-${index}`,
          }).done;
          execution.tasks.push({ index, attempt, exitCode: result.exitCode, ms: result.ms, output: result.stdout + result.stderr });
          if (result.exitCode === 0) break;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallelism, taskCount) }, worker));
    const byTask = new Map<number, TaskRun>();
    for (const t of execution.tasks) byTask.set(t.index, t);
    execution.status = [...byTask.values()].every((t) => t.exitCode === 0) && byTask.size === taskCount ? 'succeeded' : 'failed';
    execution.ms = Date.now() - started;
  }

  /**
   * What Cloud Run does before a container starts: pull the image, read each
   * referenced secret as the workload's account, mount the volumes.
   */
  private async prepare(
    decl: WorkloadDecl,
    context: string,
  ): Promise<{ env: Record<string, string>; mounts: Record<string, string>; network: Record<string, string> } | { error: string }> {
    if (!this.imageExists(decl.container.image)) {
      return {
        error: `image ${decl.container.image} was not found in the registry (the rehearsal's registry holds the image built from this tree, ${this.tree.digest})`,
      };
    }
    const env: Record<string, string> = {};
    for (const e of decl.container.env) {
      if (e.secret) {
        const id = e.secret.secret.split('/').pop()!;
        const decision = this.policy.check(
          decl.serviceAccount,
          'secretmanager.versions.access',
          `projects/${this.graph.project}/secrets/${id}`,
          `${context} start (env ${e.name})`,
        );
        if (!decision.allowed)
          return {
            error: `${decl.serviceAccount} may not access secret ${id} (env ${e.name}): Cloud Run refuses to start the ${decl.kind}`,
          };
        const value = this.deployment.secrets.get(id);
        if (value === undefined) return { error: `secret ${id} (env ${e.name}) has no version` };
        env[e.name] = value;
      } else env[e.name] = e.value ?? '';
    }
    // The instance's private IP is this machine's Cloud SQL stand-in (port 5432 on a loopback address of its own).
    for (const [k, v] of Object.entries(env)) if (v.includes(SQL_PRIVATE_IP)) env[k] = v.split(SQL_PRIVATE_IP).join(this.cloudSql.address);
    const mounts: Record<string, string> = {};
    for (const m of decl.container.mounts) {
      const volume = decl.volumes.find((v) => v.name === m.name);
      if (!volume) return { error: `volume mount ${m.name} names no volume` };
      if (volume.nfs) {
        const share = this.filestore.get(volume.nfs.server);
        if (!share) return { error: `NFS server ${volume.nfs.server} is not a Filestore instance of the graph` };
        mounts[m.mountPath] = share;
      } else {
        const dir = mkdtempSync(join(this.workDir, 'emptydir-'));
        chmodSync(dir, 0o777);
        mounts[m.mountPath] = dir;
      }
    }
    const edge = await this.edgeFor(decl.serviceAccount, context.replace(/ start \(.*$/, ''));
    const network: Record<string, string> = {
      STORAGE_EMULATOR_HOST: edge.gcs.url,
      BIGQUERY_EMULATOR_HOST: edge.bq.url,
      GCE_METADATA_HOST: edge.metadata.host,
      PIPEKIT_RUN_API_ENDPOINT: edge.run.url,
      PIPEKIT_SCHEDULER_API_ENDPOINT: edge.run.url,
      NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --import ${this.internet.preload}`.trim(),
    };
    return { env, mounts, network };
  }

  private imageExists(image: string | undefined): boolean {
    return registryHas(image);
  }

  /** The tree of the Dockerfile stage an image holds (the build's --target; the runtime stage by default). */
  treeFor(image: string): ImageTree {
    const stage = this.stages.get(imageRepository(image));
    if (!stage || stage === this.tree.dockerfile.runtime.name) return this.tree;
    let tree = this.trees.get(stage);
    if (!tree) {
      tree = assembleImageTree(this.options.context ?? REPO_ROOT, {
        target: stage,
        ...(this.options.pipelinesDir ? { overlay: { pipelines: this.options.pipelinesDir } } : {}),
      });
      this.trees.set(stage, tree);
    }
    return tree;
  }

  /** What Google does on `pulumi up` for jobs deployed with an execution token: run them once, before anything else. */
  async runOnDeploy(): Promise<Execution[]> {
    const started: Execution[] = [];
    for (const job of this.deployment.jobs.values()) {
      if (!job.runOnDeploy) continue;
      const execution = `${job.resourceName}/executions/${job.name}-deploy`;
      this.onRun(job.resourceName, {}, execution);
      await this.settle();
      for (const e of this.executions.filter((x) => x.execution === execution)) {
        e.source = 'pulumi up (execution token)';
        started.push(e);
      }
    }
    return started;
  }

  /** The endpoints one account's workloads reach Google through. */
  edgeFor(account: string, context: string): Promise<{ gcs: Gateway; bq: Gateway; run: Gateway; metadata: MetadataServer }> {
    // One set per account and workload, so each decision names the workload that asked.
    const key = `${account}\0${context}`;
    let edge = this.perAccount.get(key);
    if (!edge) {
      edge = (async () => ({
        gcs: await startGateway({
          policy: this.policy,
          account,
          upstream: this.gcs.url,
          authorize: storageNeeds(this.graph.project),
          context,
        }),
        bq: await startGateway({
          policy: this.policy,
          account,
          upstream: this.bigquery.url,
          authorize: bigqueryNeeds(),
          context,
          // BIGQUERY_EMULATOR_HOST becomes the base URL without /bigquery/v2.
          rewrite: (p) => (p.startsWith('/projects/') ? `/bigquery/v2${p}` : p),
        }),
        run: await startGateway({ policy: this.policy, account, upstream: this.runApi.url, authorize: runApiNeeds(), context }),
        metadata: await startMetadataServer(this.graph.project, account),
      }))();
      this.perAccount.set(key, edge);
    }
    return edge;
  }

  /** A function as Cloud Run functions runs it: its source archive, built with the lockfile's packages, served by the Functions Framework. */
  private startFunction(fn: FunctionDecl): Promise<{ url: string; container: RunningContainer }> {
    let started = this.functionProcs.get(fn.name);
    if (started) return started;
    started = (async () => {
      if (!fn.source || !this.deployment.archives.has(`${fn.source.bucket}/${fn.source.object}`)) {
        throw new Error(`function ${fn.name}: its source ${fn.source?.bucket}/${fn.source?.object} is not an object the graph uploads`);
      }
      // Pulumi's mocks do not serialize asset contents: the archive is rebuilt by the function the component uses.
      const archive: Record<string, { text?: string; path?: string }> = { 'index.js': { text: ARCHIVE_ENTRY } };
      const pipelinesDir = this.options.pipelinesDir ?? resolvePath(this.options.context ?? REPO_ROOT, 'pipelines');
      for (const [path, file] of functionSourceFiles(this.options.context ?? REPO_ROOT, pipelinesDir)) archive[path] = { path: file };
      const dir = mkdtempSync(join(this.workDir, `fn-${fn.name}-`));
      chmodSync(dir, 0o755);
      for (const [path, asset] of Object.entries(archive)) {
        const to = join(dir, path);
        mkdirSync(dirname(to), { recursive: true });
        if (asset.text !== undefined) writeFileSync(to, asset.text);
        else if (asset.path) copyFileSync(asset.path, to);
      }
      // The buildpack installs from the lockfile; the worktree's node_modules holds the same packages.
      symlinkSync(resolvePath(this.options.context ?? REPO_ROOT, 'node_modules'), join(dir, 'node_modules'));
      const env: Record<string, string> = { ...fn.env };
      for (const s of fn.secretEnv) {
        const id = s.secret.split('/').pop()!;
        const decision = this.policy.check(
          fn.serviceAccount,
          'secretmanager.versions.access',
          `projects/${this.graph.project}/secrets/${id}`,
          `function ${fn.name} start (env ${s.key})`,
        );
        if (!decision.allowed) throw new Error(`function ${fn.name}: ${fn.serviceAccount} may not access secret ${id}`);
        env[s.key] = this.deployment.secrets.get(id) ?? '';
      }
      const edge = await this.edgeFor(fn.serviceAccount, `function ${fn.name}`);
      const port = await freePort();
      const tree: ImageTree = {
        ...this.tree,
        root: dir,
        workdir: '/workspace',
        dockerfile: {
          ...this.tree.dockerfile,
          runtime: { ...this.tree.dockerfile.runtime, env: {}, entrypoint: undefined, cmd: undefined },
        },
      };
      const container = startContainer({
        tree,
        command: [
          'node',
          'node_modules/@google-cloud/functions-framework/build/src/main.js',
          `--target=${fn.entryPoint}`,
          `--port=${port}`,
          ...(fn.event ? ['--signature-type=cloudevent'] : []),
        ],
        env: { ...env, K_SERVICE: fn.name, FUNCTION_TARGET: fn.entryPoint },
        mounts: {},
        network: { GCE_METADATA_HOST: edge.metadata.host, PIPEKIT_RUN_API_ENDPOINT: edge.run.url },
        label: fn.name,
      });
      this.closers.push(() => container.stop());
      const url = `http://127.0.0.1:${port}`;
      let exited = false;
      void container.done.then(() => (exited = true));
      for (const deadline = Date.now() + 30_000; Date.now() < deadline && !exited; ) {
        if (await listening(port)) return { url, container };
        await new Promise((r) => setTimeout(r, 200));
      }
      throw new Error(`function ${fn.name} did not start: ${container.output().slice(-2000)}`);
    })();
    this.functionProcs.set(fn.name, started);
    return started;
  }
}

/** Declares the stack, assembles the image, starts every stand-in and lays out Cloud SQL and Filestore. */
export async function startRehearsal(options: RehearsalOptions): Promise<Rehearsal> {
  const suffix = randomBytes(3).toString('hex');
  const certificate = makeServerCertificate(`rehearsal-project:pipekit-db-instance`);
  const config: Record<string, unknown> = {
    cloudArmor: 'false',
    dbUser: `reh_${suffix}`,
    taxiDatabase: `reh_${suffix}_ny_taxi`,
    runsDatabase: `reh_${suffix}_pipekit`,
    ...options.config,
  };
  const graph = await declareStack({
    config,
    pipelinesDir: options.pipelinesDir,
    sqlServerCa: certificate.caPem,
    importProgram: options.importProgram,
  });
  const deployment = readDeployment(graph);
  const policy = new IamPolicy(graph);
  policy.owners.add(DEPLOYER);
  const tree = assembleImageTree(
    options.context ?? REPO_ROOT,
    options.pipelinesDir ? { overlay: { pipelines: options.pipelinesDir } } : {},
  );

  const workDir = mkdtempSync(join(tmpdir(), 'pipekit-rehearsal-'));
  chmodSync(workDir, 0o755);
  const internet = await startInternet({ taxiRows: options.taxiRows });
  const gcs = await startGcsFake();
  for (const bucket of deployment.buckets) gcs.createBucket(bucket);
  const bigquery = await startBigQueryFake({ projectId: graph.project, gcs });
  for (const dataset of deployment.datasets) bigquery.createDataset(dataset, String(config.bigqueryLocation ?? 'US'));
  let rehearsal: Rehearsal | undefined;
  const impostor = makeServerCertificate('rehearsal-project:pipekit-db-instance');
  const cloudSql = await startCloudSql({
    upstreamHost: options.postgres.host,
    upstreamPort: options.postgres.port,
    certificate: () => (rehearsal?.sqlImpostor ? impostor : certificate),
  });

  // Cloud SQL's users and databases, as the graph declares them.
  const user = deployment.sqlUsers[0] ?? { name: 'pipekit', password: '' };
  const admin = new pg.Client({ ...options.postgres, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`DROP ROLE IF EXISTS "${user.name}"`).catch(() => undefined);
    await admin.query(`CREATE ROLE "${user.name}" LOGIN CREATEDB PASSWORD '${user.password.replace(/'/g, "''")}'`);
    for (const name of deployment.sqlDatabases) await admin.query(`CREATE DATABASE "${name}" OWNER "${user.name}"`);
  } finally {
    await admin.end();
  }

  // A new Filestore share is root's, mode 755: whatever makes it writable must be in the graph.
  const filestore = new Map<string, string>();
  for (const f of deployment.filestores) {
    const dir = join(workDir, `filestore-${f.ip}`);
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    filestore.set(f.ip, dir);
  }

  const runApi = await startRunApiFake({ onRun: (run) => rehearsal?.onRun(run.job, run.body, run.execution) });
  rehearsal = new Rehearsal(
    graph,
    deployment,
    policy,
    tree,
    imageStages(graph, options.context ?? REPO_ROOT),
    gcs,
    bigquery,
    runApi,
    cloudSql,
    internet,
    filestore,
    workDir,
    { user: user.name, password: user.password, names: deployment.sqlDatabases },
    options,
  );
  rehearsal.notes.push(
    realMounts()
      ? `containers run in their own mount namespace: the image tree at ${tree.workdir}, the Filestore share at its mount path, as uid ${tree.uid}`
      : `no mount namespaces here: containers run from ${tree.root} as this user (not uid ${tree.uid}; the image's users do not exist here), env values naming a mount path point at its local folder`,
    `Cloud SQL ${SQL_PRIVATE_IP} is ${cloudSql.address}:5432 (TLS required, server certificate from the instance's CA)`,
  );
  const onDeploy = await rehearsal.runOnDeploy();
  for (const e of onDeploy) rehearsal.notes.push(`pulumi up ran ${e.job} once (execution token): ${e.status}`);
  return rehearsal;
}

/**
 * The rehearsal's Artifact Registry: any image pinned by digest stands for
 * the tree assembled from this repository, except a placeholder digest (all
 * zeros), which names no image anyone pushed.
 */
export function registryHas(image: string | undefined): boolean {
  const digest = /@(sha256:[0-9a-f]{64})$/.exec(image ?? '')?.[1];
  return digest !== undefined && !/^sha256:0{64}$/.test(digest);
}

/** True once something accepts connections on the port (a GET would reach the function itself). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}
