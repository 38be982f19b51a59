import { ConnectionError } from '../../src/errors.ts';
import { googleRest } from './google-rest.ts';

/**
 * Just enough of the Cloud Build v1 REST API to run one build from a source
 * archive in Cloud Storage and report the digests of the images it pushed:
 * `projects.locations.builds.create`, then `builds.get` until the build ends.
 * The build's steps come from cloudbuild.yaml.
 */

/** A cloudbuild.yaml as Cloud Build's `Build` takes it (steps, images, options, timeout). */
export type BuildConfig = Record<string, unknown> & { images?: string[] };

export interface BuildRequest {
  readonly project: string;
  readonly region: string;
  readonly source: { readonly bucket: string; readonly object: string };
  readonly config: BuildConfig;
  readonly substitutions: Readonly<Record<string, string>>;
  /** The build's own service account (email); Cloud Build's default account is never used. */
  readonly serviceAccount: string;
}

export interface BuiltImage {
  /** As pushed, with its tag: `REGION-docker.pkg.dev/P/R/pipekit:src-<hash>`. */
  readonly name: string;
  readonly digest: string;
}

export interface CloudBuildOptions {
  /** `PIPEKIT_CLOUD_BUILD_ENDPOINT`: a local fake over plain HTTP, no credentials. */
  readonly endpoint?: string;
  readonly pollMs?: number;
  readonly timeoutMs?: number;
  /** Progress lines (the build id, its log URL, status changes). */
  readonly log?: (line: string) => void;
}

const DONE = new Set(['SUCCESS', 'FAILURE', 'INTERNAL_ERROR', 'TIMEOUT', 'CANCELLED', 'EXPIRED']);

interface Build {
  id?: string;
  status?: string;
  statusDetail?: string;
  logUrl?: string;
  failureInfo?: { type?: string; detail?: string };
  results?: { images?: { name?: string; digest?: string }[] };
}

/** Runs the build and waits for it; every image of `config.images` comes back with its digest. */
export async function runCloudBuild(request: BuildRequest, options: CloudBuildOptions = {}): Promise<BuiltImage[]> {
  const api = apiClient(options.endpoint);
  const base = `/v1/projects/${request.project}/locations/${request.region}/builds`;
  const target = `Cloud Build in ${request.project}/${request.region}`;
  const log = options.log ?? (() => {});
  const operation = await api.call<{ metadata?: { build?: Build } }>(target, 'POST', base, {
    ...request.config,
    source: { storageSource: { bucket: request.source.bucket, object: request.source.object } },
    substitutions: { ...request.substitutions },
    serviceAccount: `projects/${request.project}/serviceAccounts/${request.serviceAccount}`,
  });
  const id = operation.metadata?.build?.id;
  if (!id) throw new ConnectionError({ target, message: 'the create call answered without a build id', retriable: false });
  log(`build ${id} started${operation.metadata?.build?.logUrl ? `: ${operation.metadata.build.logUrl}` : ''}`);

  const deadline = Date.now() + (options.timeoutMs ?? 40 * 60_000);
  let status = '';
  for (;;) {
    const build = await api.call<Build>(target, 'GET', `${base}/${id}`);
    if (build.status && build.status !== status) log(`build ${id}: ${(status = build.status)}`);
    if (build.status && DONE.has(build.status)) return imagesOf(build, request, target);
    if (Date.now() > deadline) {
      throw new ConnectionError({
        target: `build ${id}`,
        message: `still ${status || 'pending'} after the wait ran out`,
        hint: `follow it with \`gcloud builds describe ${id} --region ${request.region}\`, then run \`pulumi up\` again`,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 5_000));
  }
}

function imagesOf(build: Build, request: BuildRequest, target: string): BuiltImage[] {
  if (build.status !== 'SUCCESS') {
    const why = build.failureInfo?.detail ?? build.statusDetail ?? 'no detail given';
    throw new ConnectionError({
      target: `build ${build.id}`,
      message: `ended ${build.status}: ${why}`,
      hint: `read the build log${build.logUrl ? ` (${build.logUrl})` : ''}; \`pulumi up\` starts a new build when you run it again`,
      retriable: false,
    });
  }
  const pushed = build.results?.images ?? [];
  return (request.config.images ?? []).map((wanted) => {
    const name = substitute(wanted, request.substitutions);
    const image = pushed.find((i) => i.name === name);
    if (!image?.digest)
      throw new ConnectionError({ target, message: `build ${build.id} succeeded but reported no digest for ${name}`, retriable: false });
    return { name, digest: image.digest };
  });
}

/** `$_IMAGE` / `${_IMAGE}` as Cloud Build expands user substitutions. */
export function substitute(text: string, substitutions: Readonly<Record<string, string>>): string {
  return text.replace(/\$\{?(_[A-Z0-9_]+)\}?/g, (whole, key: string) => substitutions[key] ?? whole);
}

function apiClient(endpoint: string | undefined) {
  const request = googleRest('https://cloudbuild.googleapis.com', endpoint);
  return {
    async call<T>(target: string, method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const response = await request({
        method,
        path,
        body,
        target,
        unreachableHint:
          'check the network and `gcloud auth application-default login` (pulumi up builds with your application-default credentials)',
      });
      const text = await response.text();
      if (!response.ok) {
        throw new ConnectionError({
          target,
          message: `${method} ${path} answered ${response.status}: ${errorMessage(text)}`,
          hint:
            response.status === 403
              ? 'you need roles/cloudbuild.builds.editor and iam.serviceAccounts.actAs on the build account (project owners have both)'
              : 'run `pulumi up` again; if it keeps failing, see the Cloud Build page of the console',
          retriable: response.status >= 500,
        });
      }
      return JSON.parse(text) as T;
    },
  };
}

function errorMessage(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body.slice(0, 300);
  } catch {
    return body.slice(0, 300);
  }
}
