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
import { type MockCloud, mockCall, mockState, settleDeclarations, stackConfig } from '../support/pulumi-mocks.ts';

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

/** What the mocked Google reports: fixed values the tests assert on. */
const CLOUD: MockCloud = {
  project: PROJECT,
  sqlPrivateIp: '10.100.0.3',
  sqlServerCa: { cert: SERVER_CA_PEM, commonName: 'C=US,O=Google\\, Inc,CN=Google Cloud SQL Server CA', sha1Fingerprint: 'ab' },
  filestoreIp: '10.100.1.2',
  runHostSuffix: 'xyz',
  digestOf: () => 'b'.repeat(64),
  password: (name) => `generated-${name}`,
};

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
        const state = mockState(args.type, args.name, args.inputs, CLOUD);
        resources.push({
          type: args.type,
          name: args.name,
          inputs: args.inputs,
          state,
          options: options.get(`${args.type}::${args.name}`)!,
        });
        return { id: `${args.name}-id`, state };
      },
      call: (args) => mockCall(args.token, args.inputs, PROJECT),
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
  const all = stackConfig({ 'gcp:project': PROJECT, 'gcp:region': REGION, image: IMAGE, allowedCidrs: ['203.0.113.7/32'], ...config });
  pulumi.runtime.setAllConfig(all, ['pipekit:userSecrets']);

  // An empty dir means "not set", to exercise pipekit:pipelinesDir.
  if (pipelinesDir) process.env.PIPEKIT_PIPELINES_DIR = pipelinesDir;
  else delete process.env.PIPEKIT_PIPELINES_DIR;
  vi.resetModules();
  const outputs = (await import(program)) as Record<string, any>;
  await settleDeclarations(resources);
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
