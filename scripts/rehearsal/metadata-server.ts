/**
 * Cloud Run's metadata server for one workload: its project and its service
 * account's identity. Google client libraries find it through
 * GCE_METADATA_HOST; the access tokens it hands out name the account, so the
 * API gateways know who is calling.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { TOKEN_PREFIX } from './gateway.ts';

export interface MetadataServer {
  /** `127.0.0.1:PORT`, the form GCE_METADATA_HOST takes. */
  readonly host: string;
  close(): Promise<void>;
}

export async function startMetadataServer(project: string, account: string): Promise<MetadataServer> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const send = (status: number, body: string, type = 'application/text') => {
      res.writeHead(status, { 'Metadata-Flavor': 'Google', 'content-type': type });
      res.end(body);
    };
    if (req.headers['metadata-flavor'] !== 'Google' && path !== '/') return send(403, 'Missing Metadata-Flavor:Google header.');
    switch (path.replace(/\/$/, '')) {
      case '':
      case '/computeMetadata/v1':
      case '/computeMetadata/v1/instance':
        return send(200, '');
      case '/computeMetadata/v1/project/project-id':
        return send(200, project);
      case '/computeMetadata/v1/project/numeric-project-id':
        return send(200, '123456789');
      case '/computeMetadata/v1/instance/service-accounts/default/email':
        return send(200, account);
      case '/computeMetadata/v1/instance/service-accounts/default/token':
        return send(
          200,
          JSON.stringify({ access_token: `${TOKEN_PREFIX}${account}`, expires_in: 3599, token_type: 'Bearer' }),
          'application/json',
        );
      case '/computeMetadata/v1/instance/service-accounts/default/identity':
        return send(200, `${TOKEN_PREFIX}${account}`);
      case '/computeMetadata/v1/instance/region':
        return send(200, `projects/123456789/regions/rehearsal`);
      default:
        return send(404, 'not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { host: `127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
}
