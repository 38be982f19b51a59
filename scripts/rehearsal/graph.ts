/**
 * The resource graph the Pulumi program (infra/) declares, captured under
 * `pulumi.runtime.setMocks`: no CLI, no plugins, no network. The rehearsal
 * executes this graph; nothing here knows what the resources are for.
 */
import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { resolve as resolvePath } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { REPO_ROOT } from '../../infra/pipelines-source.ts';

export interface GraphResource {
  readonly type: string;
  /** The Pulumi resource name (URN name), not the cloud name. */
  readonly name: string;
  /** The id the mock gives it: `<name>-id`; other resources refer to it by this. */
  readonly id: string;
  /** Inputs with secrets unwrapped. */
  readonly inputs: Record<string, any>;
  /** Inputs plus the outputs Google would compute. */
  readonly state: Record<string, any>;
}

export interface Graph {
  readonly project: string;
  readonly region: string;
  readonly resources: readonly GraphResource[];
  /** The program's stack outputs, resolved. */
  readonly outputs: Record<string, unknown>;
  /** Warnings the program logged (pulumi.log.warn). */
  ofType(type: string): GraphResource[];
  byId(id: string): GraphResource | undefined;
}

export interface DeclareOptions {
  /** The pipelines folder the program reads (PIPEKIT_PIPELINES_DIR). Default: the repository's pipelines/. */
  readonly pipelinesDir?: string;
  /** Stack config: `pipekit:` keys by short name, other namespaces in full (`gcp:region`). */
  readonly config?: Record<string, unknown>;
  /** The Cloud SQL server CA the mock gives the instance (a resource output in Google). */
  readonly sqlServerCa?: string;
  /** Imports infra/index.ts afresh (a test runner passes one that resets its module cache). */
  readonly importProgram?: () => Promise<Record<string, unknown>>;
}

export const REHEARSAL_PROJECT = 'pipekit-rehearsal';
export const REHEARSAL_REGION = 'europe-west1';
export const SQL_PRIVATE_IP = '10.100.0.3';
export const FILESTORE_IP = '10.100.1.2';

let imports = 0;

const PLACEHOLDER_CA = '-----BEGIN CERTIFICATE-----\nMIIBrehearsalplaceholder\n-----END CERTIFICATE-----\n';

/** Runs the Pulumi program under mocks and returns every resource it declared. */
export async function declareStack(options: DeclareOptions = {}): Promise<Graph> {
  const resources: GraphResource[] = [];
  const config = { 'gcp:project': REHEARSAL_PROJECT, 'gcp:region': REHEARSAL_REGION, ...options.config };
  const project = String(config['gcp:project']);
  const region = String(config['gcp:region']);
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const inputs = unwrapSecrets(args.inputs) as Record<string, any>;
        const state = computedState(args.type, args.name, inputs, project, options.sqlServerCa);
        resources.push({ type: args.type, name: args.name, id: `${args.name}-id`, inputs, state });
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        if (args.token === 'gcp:storage/getProjectServiceAccount:getProjectServiceAccount') {
          return { ...args.inputs, emailAddress: 'service-123456789@gs-project-accounts.iam.gserviceaccount.com' };
        }
        if (args.token === 'gcp:organizations/getProject:getProject') {
          return { ...args.inputs, number: '123456789', projectId: project };
        }
        return args.inputs;
      },
    },
    'pipekit',
    'rehearsal',
    false,
  );
  const all: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    const fullKey = key.includes(':') ? key : `pipekit:${key}`;
    all[fullKey] = typeof value === 'string' ? value : JSON.stringify(value);
    if (fullKey === 'pipekit:userSecrets') secretKeys.push(fullKey);
  }
  pulumi.runtime.setAllConfig(all, secretKeys);

  const before = process.env.PIPEKIT_PIPELINES_DIR;
  process.env.PIPEKIT_PIPELINES_DIR = options.pipelinesDir ?? resolvePath(REPO_ROOT, 'pipelines');
  let program: Record<string, unknown>;
  try {
    program = await (options.importProgram ?? freshImport)();
  } finally {
    if (before === undefined) delete process.env.PIPEKIT_PIPELINES_DIR;
    else process.env.PIPEKIT_PIPELINES_DIR = before;
  }
  await settle(resources);
  const outputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(program)) outputs[key] = await resolveOutput(value);
  return {
    project,
    region,
    resources,
    outputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    byId: (id) => resources.find((r) => r.id === id),
  };
}

/** A fresh evaluation of the program: the query string makes Node load index.ts again. */
function freshImport(): Promise<Record<string, unknown>> {
  const url = pathToFileURL(resolvePath(REPO_ROOT, 'infra/index.ts'));
  url.searchParams.set('rehearsal', String(++imports));
  return import(url.href) as Promise<Record<string, unknown>>;
}

/** Fills the outputs Google would compute; the mock monitor only echoes inputs. */
function computedState(
  type: string,
  name: string,
  inputs: Record<string, any>,
  project: string,
  sqlServerCa?: string,
): Record<string, any> {
  const state: Record<string, any> = { ...inputs, name: inputs.name ?? name };
  switch (type) {
    case 'gcp:serviceaccount/account:Account':
      state.email = `${inputs.accountId}@${project}.iam.gserviceaccount.com`;
      state.member = `serviceAccount:${state.email}`;
      break;
    case 'gcp:projects/iAMCustomRole:IAMCustomRole':
      state.name = `projects/${project}/roles/${inputs.roleId}`;
      break;
    case 'gcp:sql/databaseInstance:DatabaseInstance':
      state.connectionName = `${project}:${inputs.region}:${name}`;
      state.privateIpAddress = SQL_PRIVATE_IP;
      // A declaration-only graph (no Cloud SQL stand-in) still needs a CA to hand to the workloads.
      state.serverCaCerts = [
        { cert: sqlServerCa ?? PLACEHOLDER_CA, commonName: 'rehearsal Cloud SQL server CA', sha1Fingerprint: 'rehearsal' },
      ];
      break;
    case 'gcp:filestore/instance:Instance':
      state.networks = (inputs.networks ?? []).map((n: any) => ({ ...n, ipAddresses: [FILESTORE_IP] }));
      break;
    case 'gcp:compute/globalAddress:GlobalAddress':
      state.address = '34.120.0.7';
      break;
    case 'gcp:compute/securityPolicy:SecurityPolicy':
      state.selfLink = `https://www.googleapis.com/compute/v1/projects/${project}/global/securityPolicies/${name}`;
      break;
    case 'gcp:artifactregistry/repository:Repository':
      state.project = inputs.project ?? project;
      break;
    case 'gcp:cloudrunv2/service:Service':
      state.uri = `https://${state.name}-rehearsal.a.run.app`;
      break;
    case 'gcp:cloudfunctionsv2/function:Function':
      state.url = `https://${inputs.location}-${project}.cloudfunctions.net/${state.name}`;
      state.serviceConfig = { ...inputs.serviceConfig, service: `projects/${project}/locations/${inputs.location}/services/${state.name}` };
      break;
    case 'command:local:Command': {
      // The image build (infra/build/build-image.ts) prints the pushed images by digest as one JSON line.
      const env = inputs.environment ?? {};
      const pin = (tagged: string, seed: string) =>
        `${tagged.replace(/:[^:/]+$/, '')}@sha256:${createHash('sha256').update(seed).digest('hex')}`;
      if (env.PIPEKIT_BUILD_IMAGE)
        state.stdout = `${JSON.stringify({ image: pin(env.PIPEKIT_BUILD_IMAGE, env.PIPEKIT_BUILD_IMAGE), initImage: pin(env.PIPEKIT_BUILD_INIT_IMAGE ?? '', `${env.PIPEKIT_BUILD_INIT_IMAGE}`) })}\n`;
      break;
    }
    case 'random:index/randomPassword:RandomPassword':
      state.result = `rehearsal${name.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, inputs.length ?? 32);
      break;
  }
  return state;
}

/** Mock inputs carry secrets as `{ <sig>: <secret sig>, value }`; the rehearsal needs the values. */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    if (record[pulumi.runtime.specialSigKey] === pulumi.runtime.specialSecretSig) return unwrapSecrets(record.value);
    return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

function resolveOutput(value: unknown): Promise<unknown> {
  if (pulumi.Output.isInstance(value)) return new Promise((r) => (value as pulumi.Output<unknown>).apply((v) => r(v)));
  if (Array.isArray(value)) return Promise.all(value.map(resolveOutput));
  return Promise.resolve(value);
}

/** Waits until no resource has been declared for a few ticks (outputs feeding inputs resolve asynchronously). */
async function settle(resources: GraphResource[]): Promise<void> {
  let last = -1;
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((r) => setTimeout(r, 20));
    if (resources.length === last) quiet += 1;
    else {
      quiet = 0;
      last = resources.length;
    }
  }
}
