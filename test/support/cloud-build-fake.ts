import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CloudBuildFake {
  /** `http://127.0.0.1:PORT`, for PIPEKIT_CLOUD_BUILD_ENDPOINT. */
  readonly url: string;
  /** Every `builds.create` body, as sent. */
  readonly created: Record<string, any>[];
  /** The next build ends with this status instead of SUCCESS. */
  failNext(status: string, detail: string): void;
  /** How many polls answer WORKING before the end state (default 1; 0 for a caller that polls slowly). */
  workingPolls: number;
  close(): Promise<void>;
}

/**
 * A local stand-in for Cloud Build v1 (`projects/P/locations/R/builds`):
 * create answers an operation carrying the build id; get answers WORKING
 * once, then the end state with a digest for every image the build names
 * (after substitutions), derived from the name so tests can predict it.
 */
export async function startCloudBuildFake(): Promise<CloudBuildFake> {
  const created: Record<string, any>[] = [];
  const builds = new Map<string, { body: Record<string, any>; polls: number; end: { status: string; detail?: string } }>();
  let failure: { status: string; detail: string } | undefined;

  let fake: CloudBuildFake;
  const server: Server = createServer(async (req, res) => {
    const body = await readJson(req);
    const path = (req.url ?? '').split('?')[0]!;
    const reply = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    const create = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/builds$/.exec(path);
    if (req.method === 'POST' && create) {
      const id = `build-${builds.size + 1}`;
      created.push(body);
      builds.set(id, { body, polls: 0, end: failure ?? { status: 'SUCCESS' } });
      failure = undefined;
      return reply(200, {
        name: `projects/${create[1]}/locations/${create[2]}/operations/op-${id}`,
        metadata: { build: { id, status: 'QUEUED', logUrl: `https://console.cloud.google.com/cloud-build/builds/${id}` } },
      });
    }
    const get = /^\/v1\/projects\/[^/]+\/locations\/[^/]+\/builds\/([^/]+)$/.exec(path);
    const build = get && builds.get(get[1]!);
    if (req.method === 'GET' && build) {
      if (build.polls++ < fake.workingPolls) return reply(200, { id: get[1], status: 'WORKING' });
      if (build.end.status !== 'SUCCESS')
        return reply(200, { id: get[1], status: build.end.status, failureInfo: { detail: build.end.detail } });
      const images = (build.body.images as string[]).map((name) => substituted(name, build.body.substitutions ?? {}));
      return reply(200, { id: get[1], status: 'SUCCESS', results: { images: images.map((name) => ({ name, digest: fakeDigest(name) })) } });
    }
    reply(404, { error: { code: 404, message: `no fake for ${req.method} ${path}` } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  fake = {
    url: `http://127.0.0.1:${port}`,
    created,
    workingPolls: 1,
    failNext(status, detail) {
      failure = { status, detail };
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
  return fake;
}

/** The digest the fake reports for an image name. */
export function fakeDigest(name: string): string {
  return `sha256:${createHash('sha256').update(name).digest('hex')}`;
}

function substituted(text: string, subs: Record<string, string>): string {
  return text.replace(/\$\{?(_[A-Z0-9_]+)\}?/g, (whole, key: string) => subs[key] ?? whole);
}

async function readJson(req: IncomingMessage): Promise<Record<string, any>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}
