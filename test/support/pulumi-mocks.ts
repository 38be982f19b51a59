/**
 * What the infra tests (test/infra/harness.ts) and the rehearsal (scripts/rehearsal/graph.ts)
 * both hand `pulumi.runtime.setMocks`: the outputs Google would compute for each resource type,
 * the provider functions the program calls, and the stack config. Each caller picks its own
 * values (project, addresses, CA, digests) so one table of resource types serves both.
 */

/** The values a mocked cloud reports; everything else in a state is derived from the inputs. */
export interface MockCloud {
  readonly project: string;
  readonly sqlPrivateIp: string;
  readonly sqlServerCa: { cert: string; commonName: string; sha1Fingerprint: string };
  readonly filestoreIp: string;
  /** The random part of a Cloud Run service's `*.a.run.app` host. */
  readonly runHostSuffix: string;
  /** The `sha256:` digest (64 hex digits) an image build reports for a tagged image. */
  digestOf(taggedImage: string): string;
  /** What a RandomPassword resource produces. */
  password(name: string, inputs: Record<string, any>): string;
}

/** Fills the outputs Google would compute; the mock monitor only echoes inputs. */
export function mockState(type: string, name: string, inputs: Record<string, any>, cloud: MockCloud): Record<string, any> {
  const { project } = cloud;
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
      state.privateIpAddress = cloud.sqlPrivateIp;
      state.serverCaCerts = [cloud.sqlServerCa];
      break;
    case 'gcp:filestore/instance:Instance':
      state.networks = (inputs.networks ?? []).map((n: any) => ({ ...n, ipAddresses: [cloud.filestoreIp] }));
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
      state.uri = `https://${state.name}-${cloud.runHostSuffix}.a.run.app`;
      break;
    case 'gcp:cloudfunctionsv2/function:Function':
      state.url = `https://${inputs.location}-${project}.cloudfunctions.net/${state.name}`;
      state.serviceConfig = { ...inputs.serviceConfig, service: `projects/${project}/locations/${inputs.location}/services/${state.name}` };
      break;
    case 'command:local:Command': {
      // The image build (infra/build/build-image.ts) prints the pushed images by digest as one JSON line.
      const env = inputs.environment ?? {};
      const pin = (tagged: string) => `${tagged.replace(/:[^:/]+$/, '')}@sha256:${cloud.digestOf(tagged)}`;
      if (env.PIPEKIT_BUILD_IMAGE)
        state.stdout = `${JSON.stringify({ image: pin(env.PIPEKIT_BUILD_IMAGE), initImage: pin(env.PIPEKIT_BUILD_INIT_IMAGE ?? '') })}\n`;
      break;
    }
    case 'random:index/randomPassword:RandomPassword':
      state.result = cloud.password(name, inputs);
      break;
  }
  return state;
}

/** The provider functions (data sources) the program calls, answered for `project`. */
export function mockCall(token: string, inputs: Record<string, any>, project: string): Record<string, any> {
  if (token === 'gcp:storage/getProjectServiceAccount:getProjectServiceAccount')
    return { ...inputs, emailAddress: 'service-123456789@gs-project-accounts.iam.gserviceaccount.com' };
  if (token === 'gcp:organizations/getProject:getProject') return { ...inputs, number: '123456789', projectId: project };
  return inputs;
}

/** Stack config as `setAllConfig` takes it: `pipekit:` keys by short name, other namespaces in full; non-strings as JSON. */
export function stackConfig(config: Record<string, unknown>): Record<string, string> {
  const all: Record<string, string> = {};
  for (const [key, value] of Object.entries(config)) {
    if (value === undefined) continue;
    all[key.includes(':') ? key : `pipekit:${key}`] = typeof value === 'string' ? value : JSON.stringify(value);
  }
  return all;
}

/** Waits until no resource has been declared for a few ticks (outputs feeding inputs resolve asynchronously). */
export async function settleDeclarations(declared: { readonly length: number }): Promise<void> {
  let last = -1;
  let quiet = 0;
  while (quiet < 5) {
    await new Promise((r) => setTimeout(r, 20));
    if (declared.length === last) quiet += 1;
    else {
      quiet = 0;
      last = declared.length;
    }
  }
}
