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
import { type MockCloud, mockCall, mockState, settleDeclarations, stackConfig } from '../../test/support/pulumi-mocks.ts';

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
        const state = mockState(args.type, args.name, inputs, rehearsalCloud(project, options.sqlServerCa));
        resources.push({ type: args.type, name: args.name, id: `${args.name}-id`, inputs, state });
        return { id: `${args.name}-id`, state };
      },
      call: (args) => mockCall(args.token, args.inputs, project),
    },
    'pipekit',
    'rehearsal',
    false,
  );
  const all = stackConfig(config);
  pulumi.runtime.setAllConfig(all, 'pipekit:userSecrets' in all ? ['pipekit:userSecrets'] : []);

  const before = process.env.PIPEKIT_PIPELINES_DIR;
  process.env.PIPEKIT_PIPELINES_DIR = options.pipelinesDir ?? resolvePath(REPO_ROOT, 'pipelines');
  let program: Record<string, unknown>;
  try {
    program = await (options.importProgram ?? freshImport)();
  } finally {
    if (before === undefined) delete process.env.PIPEKIT_PIPELINES_DIR;
    else process.env.PIPEKIT_PIPELINES_DIR = before;
  }
  await settleDeclarations(resources);
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

/** What the rehearsal's Google reports: the addresses its stand-ins listen on, digests that differ per image. */
function rehearsalCloud(project: string, sqlServerCa?: string): MockCloud {
  return {
    project,
    sqlPrivateIp: SQL_PRIVATE_IP,
    // A declaration-only graph (no Cloud SQL stand-in) still needs a CA to hand to the workloads.
    sqlServerCa: { cert: sqlServerCa ?? PLACEHOLDER_CA, commonName: 'rehearsal Cloud SQL server CA', sha1Fingerprint: 'rehearsal' },
    filestoreIp: FILESTORE_IP,
    runHostSuffix: 'rehearsal',
    digestOf: (tagged) => createHash('sha256').update(tagged).digest('hex'),
    password: (name, inputs) => `rehearsal${name.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, inputs.length ?? 32),
  };
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
