import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as command from '@pulumi/command';
import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';
import { ConfigError } from '../../src/errors.ts';
import type { BuildOutput } from '../build/build-image.ts';
import { childOptions } from './child-options.ts';
import { sourceFiles, sourceHash } from './source-files.ts';

export interface ImageBuildArgs {
  project: string;
  region: string;
  /** `<region>-docker.pkg.dev/<project>/<repo>`: where the images are pushed. */
  repositoryUrl: pulumi.Input<string>;
  /** The private bucket the source archive is uploaded to. */
  bucketName: pulumi.Input<string>;
  /** The build's own service account (see BuildAccount). */
  serviceAccountEmail: pulumi.Input<string>;
  /** Absolute path of the repository root (Dockerfile, .dockerignore, cloudbuild.yaml). */
  repoRoot: string;
  /** Absolute path of the pipelines folder the stack deploys; it lands at `pipelines/` in the image. */
  pipelinesDir: string;
}

/**
 * The paths of the image's build context: what .dockerignore lets through
 * (it starts with `*` and re-includes what the Dockerfile copies), plus the
 * Dockerfile itself. One list, so what is hashed, uploaded and built is what
 * the Dockerfile sees. `pipelines` is left out: the deployed folder is added
 * at `pipelines/` wherever it lives.
 */
export function imageSourcePaths(repoRoot: string): string[] {
  const rules = readFileSync(join(repoRoot, '.dockerignore'), 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith('#'));
  if (rules[0] !== '*') {
    throw new ConfigError({
      file: join(repoRoot, '.dockerignore'),
      message: 'must start with `*` and re-include what the Dockerfile copies (`!src/`)',
      hint: 'pulumi up uploads exactly the re-included paths as the build context',
    });
  }
  const included = rules.filter((r) => r.startsWith('!')).map((r) => r.slice(1).replace(/\/+$/, ''));
  return ['Dockerfile', '.dockerignore', ...included.filter((p) => p !== 'pipelines')];
}

/** Throws, naming the file, when the repository lacks what the image build needs. */
export function checkBuildInputs(repoRoot: string): void {
  for (const file of ['Dockerfile', '.dockerignore', 'cloudbuild.yaml']) {
    if (!existsSync(join(repoRoot, file))) {
      throw new ConfigError({
        file: join(repoRoot, file),
        message: 'is missing, and `pulumi up` builds the image from it',
        hint: 'restore it from the repository, or set pipekit:image to an image built elsewhere',
      });
    }
  }
  imageSourcePaths(repoRoot);
}

/** The image build's stdout (one JSON line) as the two references to deploy. */
export function parseBuildOutput(stdout: string): BuildOutput {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  let parsed: Partial<BuildOutput>;
  try {
    parsed = JSON.parse(line) as Partial<BuildOutput>;
  } catch {
    throw new Error(`the image build printed ${JSON.stringify(line.slice(0, 200))} instead of its result; see its log above`);
  }
  for (const key of ['image', 'initImage'] as const) {
    if (!/@sha256:[a-f0-9]{64}$/.test(parsed[key] ?? ''))
      throw new Error(`the image build gave no digest for ${key}: ${JSON.stringify(parsed)}`);
  }
  return parsed as BuildOutput;
}

/**
 * Builds the pipekit images inside `pulumi up`: the build context is
 * uploaded as a content-addressed archive, then Cloud Build runs
 * cloudbuild.yaml on it as the build account (infra/build/build-image.ts,
 * started by a command resource). Both are keyed on the hash of the
 * sources: an unchanged tree keeps the archive and the command, so nothing
 * is rebuilt and the digests stay the same. The workloads deploy `image`
 * and the workspace-init job `initImage`, each by digest, never by tag.
 */
export class ImageBuild extends pulumi.ComponentResource {
  readonly sourceHash: string;
  readonly archive: gcp.storage.BucketObject;
  readonly build: command.local.Command;
  /** The runtime image, `…/pipekit@sha256:…`. */
  readonly image: pulumi.Output<string>;
  /** The workspace-init image, `…/pipekit-workspace-init@sha256:…`. */
  readonly initImage: pulumi.Output<string>;

  constructor(name: string, args: ImageBuildArgs, opts?: pulumi.ComponentResourceOptions) {
    super('pipekit:gcp:ImageBuild', name, {}, opts);
    const files = sourceFiles(args.repoRoot, imageSourcePaths(args.repoRoot), args.pipelinesDir, 'the image build');
    const buildConfig = readFileSync(join(args.repoRoot, 'cloudbuild.yaml'), 'utf8');
    this.sourceHash = sourceHash(files, buildConfig);

    const assets: Record<string, pulumi.asset.Asset> = {};
    for (const [path, absolute] of files) assets[path] = new pulumi.asset.FileAsset(absolute);
    this.archive = new gcp.storage.BucketObject(
      `${name}-source`,
      {
        bucket: args.bucketName,
        name: `image/source-${this.sourceHash}.zip`,
        contentType: 'application/zip',
        source: new pulumi.asset.AssetArchive(assets),
      },
      childOptions(this, opts),
    );

    const tag = `src-${this.sourceHash}`;
    const environment = {
      PIPEKIT_BUILD_PROJECT: args.project,
      PIPEKIT_BUILD_REGION: args.region,
      PIPEKIT_BUILD_BUCKET: this.archive.bucket,
      PIPEKIT_BUILD_OBJECT: this.archive.name,
      PIPEKIT_BUILD_SERVICE_ACCOUNT: args.serviceAccountEmail,
      PIPEKIT_BUILD_IMAGE: pulumi.interpolate`${args.repositoryUrl}/pipekit:${tag}`,
      PIPEKIT_BUILD_INIT_IMAGE: pulumi.interpolate`${args.repositoryUrl}/pipekit-workspace-init:${tag}`,
    };
    this.build = new command.local.Command(
      `${name}-cloud-build`,
      {
        // Run from the Pulumi project directory (the repo root), with the tsx loader the program
        // itself uses. No absolute paths: the state must work from another checkout or machine.
        create: 'node --import tsx infra/build/build-image.ts',
        environment,
        // A new archive (a changed source) or another target is a new build; nothing else is.
        triggers: [this.archive.name, environment.PIPEKIT_BUILD_IMAGE, args.serviceAccountEmail],
        logging: 'stderr',
      },
      childOptions(this, opts, { dependsOn: [this.archive] }),
    );
    const built = this.build.stdout.apply(parseBuildOutput);
    this.image = built.apply((b) => b.image);
    this.initImage = built.apply((b) => b.initImage);
    this.registerOutputs({ sourceHash: this.sourceHash, image: this.image, initImage: this.initImage });
  }
}
