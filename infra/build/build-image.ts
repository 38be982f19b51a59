/**
 * What `pulumi up` runs (as a command resource, infra/components/image-build.ts)
 * to build the pipekit images with Cloud Build from the source archive it
 * uploaded. Prints one JSON line on stdout, `{ "image": …, "initImage": … }`,
 * both pinned by digest; progress goes to stderr.
 *
 *   node --import tsx infra/build/build-image.ts
 *
 * Reads PIPEKIT_BUILD_PROJECT, _REGION, _BUCKET, _OBJECT, _SERVICE_ACCOUNT,
 * _IMAGE and _INIT_IMAGE (tagged names to push), and optionally
 * PIPEKIT_CLOUD_BUILD_ENDPOINT (a local fake).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describeError } from '../../src/errors.ts';
import { runCloudBuild, type BuildConfig } from './cloud-build.ts';
import { requiredEnv } from './required-env.ts';

export const CLOUDBUILD_FILE = fileURLToPath(new URL('../../cloudbuild.yaml', import.meta.url));

export interface BuildOutput {
  readonly image: string;
  readonly initImage: string;
}

export async function buildImages(
  env: NodeJS.ProcessEnv,
  options: { pollMs?: number; log?: (line: string) => void } = {},
): Promise<BuildOutput> {
  const need = requiredEnv(env, 'infra/components/image-build.ts sets it; run the build through `pulumi up`');
  const image = need('PIPEKIT_BUILD_IMAGE');
  const initImage = need('PIPEKIT_BUILD_INIT_IMAGE');
  const built = await runCloudBuild(
    {
      project: need('PIPEKIT_BUILD_PROJECT'),
      region: need('PIPEKIT_BUILD_REGION'),
      source: { bucket: need('PIPEKIT_BUILD_BUCKET'), object: need('PIPEKIT_BUILD_OBJECT') },
      config: parse(readFileSync(CLOUDBUILD_FILE, 'utf8')) as BuildConfig,
      substitutions: { _IMAGE: image, _INIT_IMAGE: initImage },
      serviceAccount: need('PIPEKIT_BUILD_SERVICE_ACCOUNT'),
    },
    { endpoint: env.PIPEKIT_CLOUD_BUILD_ENDPOINT, pollMs: options.pollMs, log: options.log },
  );
  const pinned = (tagged: string) => {
    const found = built.find((b) => b.name === tagged)!;
    return `${untagged(tagged)}@${found.digest}`;
  };
  return { image: pinned(image), initImage: pinned(initImage) };
}

/** `host/p/r/name:tag` → `host/p/r/name` (a registry port is not a tag). */
export function untagged(reference: string): string {
  const slash = reference.lastIndexOf('/');
  const colon = reference.lastIndexOf(':');
  return colon > slash ? reference.slice(0, colon) : reference;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  buildImages(process.env, { log: (line) => process.stderr.write(`${line}\n`) }).then(
    (output) => process.stdout.write(`${JSON.stringify(output)}\n`),
    (error: unknown) => {
      process.stderr.write(`pipekit image build failed: ${describeError(error)}\n`);
      process.exitCode = 1;
    },
  );
}
