/**
 * Runs the real Pulumi program (infra/index.ts) against in-process mocks: no
 * CLI, no plugins, no network. Records every resource the program declares so
 * tests can assert on their inputs.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import { vi } from 'vitest';

export const PROJECT = 'zoomcamp-test';
export const REGION = 'europe-west1';
/** A syntactically valid image pinned by digest. */
export const IMAGE = `${REGION}-docker.pkg.dev/${PROJECT}/pipekit/pipekit@sha256:${'a'.repeat(64)}`;
/** The server CA the mocked Cloud SQL instance reports. */
export const SERVER_CA_PEM = '-----BEGIN CERTIFICATE-----\nMIIDfakeCloudSqlServerCa\n-----END CERTIFICATE-----';
/** What the mocked image build (pipekit:image unset) reports. */
export const BUILT_IMAGE = `${REGION}-docker.pkg.dev/${PROJECT}/pipekit/pipekit@sha256:${'b'.repeat(64)}`;
export const BUILT_INIT_IMAGE = `${REGION}-docker.pkg.dev/${PROJECT}/pipekit/pipekit-workspace-init@sha256:${'b'.repeat(64)}`;

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
  /** Resource options as the SDK sent them (names, not URNs); component dependencies arrive expanded to their children. */
  options: RecordedOptions;
}

export interface RecordedOptions {
  parent?: string;
  /** Explicit `dependsOn`, expanded by the SDK to the custom resources of any component named. */
  dependsOn: string[];
  deletedWith?: string;
  retainOnDelete: boolean;
  protect: boolean;
}

/** The name part of a URN (`urn:pulumi:stack::project::type$type::name`). */
const nameOfUrn = (urn: string): string => urn.slice(urn.lastIndexOf('::') + 2);

export interface DeployedStack {
  resources: RecordedResource[];
  /** The program module's exports (stack outputs). */
  outputs: Record<string, any>;
  ofType(type: string): RecordedResource[];
  one(type: string, name?: string): RecordedResource;
}

/** Fills the outputs Google would compute; the mock monitor only echoes inputs. */
function computedState(type: string, name: string, inputs: Record<string, any>): Record<string, any> {
  const state: Record<string, any> = { ...inputs, name: inputs.name ?? name };
  switch (type) {
    case 'gcp:serviceaccount/account:Account':
      state.email = `${inputs.accountId}@${PROJECT}.iam.gserviceaccount.com`;
      break;
    case 'gcp:projects/iAMCustomRole:IAMCustomRole':
      state.name = `projects/${PROJECT}/roles/${inputs.roleId}`;
      break;
    case 'gcp:sql/databaseInstance:DatabaseInstance':
      state.connectionName = `${PROJECT}:${inputs.region}:${name}`;
      state.privateIpAddress = '10.100.0.3';
      state.serverCaCerts = [
        { cert: SERVER_CA_PEM, commonName: 'C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA', sha1Fingerprint: 'ab' },
      ];
      break;
    case 'gcp:filestore/instance:Instance':
      state.networks = (inputs.networks ?? []).map((n: any) => ({ ...n, ipAddresses: ['10.100.1.2'] }));
      break;
    case 'gcp:compute/globalAddress:GlobalAddress':
      state.address = '34.120.0.7';
      break;
    case 'gcp:compute/securityPolicy:SecurityPolicy':
      state.selfLink = `https://www.googleapis.com/compute/v1/projects/${PROJECT}/global/securityPolicies/${name}`;
      break;
    case 'gcp:artifactregistry/repository:Repository':
      state.project = inputs.project ?? PROJECT;
      break;
    case 'gcp:cloudrunv2/service:Service':
      state.uri = `https://${state.name}-xyz.a.run.app`;
      break;
    case 'gcp:cloudfunctionsv2/function:Function':
      state.url = `https://${inputs.location}-${PROJECT}.cloudfunctions.net/${state.name}`;
      state.serviceConfig = { ...inputs.serviceConfig, service: `projects/${PROJECT}/locations/${inputs.location}/services/${state.name}` };
      break;
    case 'command:local:Command': {
      // The image build (infra/build/build-image.ts) prints its result as one JSON line.
      const env = inputs.environment ?? {};
      const pin = (tagged: string) => `${tagged.replace(/:[^:/]+$/, '')}@sha256:${'b'.repeat(64)}`;
      if (env.PIPEKIT_BUILD_IMAGE)
        state.stdout = `${JSON.stringify({ image: pin(env.PIPEKIT_BUILD_IMAGE), initImage: pin(env.PIPEKIT_BUILD_INIT_IMAGE) })}\n`;
      break;
    }
    case 'random:index/randomPassword:RandomPassword':
      state.result = `generated-${name}`;
      break;
  }
  return state;
}

/** A throwaway pipelines folder (the project root) with the given pipeline.yaml texts. */
export function makePipelinesDir(pipelines: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'pipekit-infra-'));
  writeFileSync(join(root, 'io_config.yaml'), 'version: 0.1.1\ndefault:\n  LAKE_URI: lake\n');
  for (const [name, yaml] of Object.entries(pipelines)) addPipeline(root, name, yaml);
  return root;
}

/** Adds `<root>/<name>/pipeline.yaml` plus the block files it names. */
export function addPipeline(root: string, name: string, yaml: string): void {
  mkdirSync(join(root, name), { recursive: true });
  writeFileSync(join(root, name, 'pipeline.yaml'), yaml);
  for (const match of yaml.matchAll(/file:\s*([^,}\s]+)/g)) {
    const file = join(root, match[1]);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, 'export default null;\n');
  }
}

/** The pipeline.yaml of the brief, with `name` in block paths so several can share a root. */
export function taxiPipelineYaml(
  name: string,
  triggers = '  - { name: daily, schedule: "@daily", timezone: America/New_York, enabled: true }',
): string {
  return `description: Yellow taxi from the API into Postgres
blocks:
  - { uuid: load_yellow_taxi, kind: loader, file: ${name}/blocks/load_yellow_taxi.ts }
  - { uuid: drop_zero_passengers, kind: transformer, file: ${name}/blocks/drop_zero_passengers.ts, upstream: [load_yellow_taxi] }
  - { uuid: taxi_to_postgres, kind: exporter, file: ${name}/blocks/taxi_to_postgres.ts, upstream: [drop_zero_passengers] }
variables: { taxi_url: "https://example.com/yellow.csv.gz" }
triggers:
${triggers}
retry: { attempts: 3, delay: 5s, backoff: exponential, max_delay: 1m }
resources: { cpu: "2", memory: 4Gi, task_timeout: 1h, parallelism: 4, max_retries: 0 }
`;
}

/**
 * Declares the stack with mocks: `config` is `pipekit:` keys (plus `gcp:` keys
 * given in full). Resolves once the program stops declaring resources.
 * `program` is the module to run: this repo's infra/index.ts, or the program
 * `pipekit init` scaffolds into a project.
 */
export async function deployStack(
  pipelinesDir: string,
  config: Record<string, unknown> = {},
  program = '../../infra/index.ts',
): Promise<DeployedStack> {
  const resources: RecordedResource[] = [];
  const options = new Map<string, RecordedOptions>();
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const state = computedState(args.type, args.name, args.inputs);
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          state,
          options: options.get(`${args.type}::${args.name}`)!,
        });
        return { id: `${args.name}-id`, state };
      },
      call(args) {
        if (args.token === 'gcp:storage/getProjectServiceAccount:getProjectServiceAccount') {
          return { ...args.inputs, emailAddress: `service-123456789@gs-project-accounts.iam.gserviceaccount.com` };
        }
        return args.inputs;
      },
    },
    'pipekit',
    'test',
    false,
  );
  // The mocks' newResource sees no options: read them off the request the SDK sends the monitor.
  const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: any, callback: unknown): unknown };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, callback) => {
    options.set(`${req.getType()}::${req.getName()}`, {
      parent: req.getParent() ? nameOfUrn(req.getParent()) : undefined,
      dependsOn: (req.getDependenciesList() as string[]).map(nameOfUrn),
      deletedWith: req.getDeletedwith() ? nameOfUrn(req.getDeletedwith()) : undefined,
      retainOnDelete: Boolean(req.getRetainondelete?.()),
      protect: Boolean(req.getProtect?.()),
    });
    return register(req, callback);
  };
  const all: Record<string, string> = { 'gcp:project': PROJECT, 'gcp:region': REGION };
  for (const [key, value] of Object.entries({ image: IMAGE, allowedCidrs: ['203.0.113.7/32'], ...config })) {
    if (value === undefined) continue;
    const fullKey = key.includes(':') ? key : `pipekit:${key}`;
    all[fullKey] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  pulumi.runtime.setAllConfig(all, ['pipekit:userSecrets']);

  // An empty dir means "not set", to exercise pipekit:pipelinesDir.
  if (pipelinesDir) process.env.PIPEKIT_PIPELINES_DIR = pipelinesDir;
  else delete process.env.PIPEKIT_PIPELINES_DIR;
  vi.resetModules();
  const outputs = (await import(program)) as Record<string, any>;
  await settle(resources);
  return {
    resources,
    outputs,
    ofType: (type) => resources.filter((r) => r.type === type),
    one(type, name) {
      const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
      if (found.length !== 1)
        throw new Error(
          `expected one ${type}${name ? ` named ${name}` : ''}, found ${found.length}: ${found.map((r) => r.name).join(', ')}`,
        );
      return found[0];
    },
  };
}

/** The value inside an Output. */
export function resolve<T>(output: pulumi.Output<T> | T): Promise<T> {
  return pulumi.Output.isInstance(output) ? new Promise((r) => (output as pulumi.Output<T>).apply(r)) : Promise.resolve(output as T);
}

/** Waits until no resource has been declared for a few ticks (outputs feeding inputs resolve asynchronously). */
async function settle(resources: RecordedResource[]): Promise<void> {
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
