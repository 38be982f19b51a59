/**
 * A Secret Manager REST fake (`GET /v1/projects/P/secrets/S/versions/latest:access`)
 * and a real `SecretManagerServiceClient` in REST mode pointed at it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { PassThroughClient } from 'google-auth-library';

export interface SecretManagerFake {
  readonly secrets: Map<string, string>;
  /** Secret names the caller may not read (403). */
  readonly denied: Set<string>;
  readonly requests: string[];
  client(): SecretManagerServiceClient;
  close(): Promise<void>;
}

export async function startSecretManagerFake(project = 'pipekit-test-123'): Promise<SecretManagerFake> {
  const secrets = new Map<string, string>();
  const denied = new Set<string>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    const m = /^\/v1\/projects\/([^/]+)\/secrets\/([^/]+)\/versions\/latest:access/.exec(req.url ?? '');
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (!m || m[1] !== project) return reply(404, { error: { code: 404, message: `no route ${req.url}`, status: 'NOT_FOUND' } });
    const name = decodeURIComponent(m[2]);
    const resource = `projects/${project}/secrets/${name}/versions/latest`;
    if (denied.has(name)) {
      return reply(403, {
        error: {
          code: 403,
          message: `Permission 'secretmanager.versions.access' denied for resource '${resource}' (or it may not exist).`,
          status: 'PERMISSION_DENIED',
        },
      });
    }
    const value = secrets.get(name);
    if (value === undefined)
      return reply(404, {
        error: { code: 404, message: `Secret [projects/123/secrets/${name}] not found or has no versions.`, status: 'NOT_FOUND' },
      });
    reply(200, { name: resource.replace('latest', '1'), payload: { data: Buffer.from(value).toString('base64') } });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    secrets,
    denied,
    requests,
    client: () =>
      new SecretManagerServiceClient({
        fallback: true,
        apiEndpoint: '127.0.0.1',
        port,
        protocol: 'http',
        authClient: new PassThroughClient() as never,
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
