import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IoProfile } from '../../src/config/io-profile.ts';
import { connect, createPool, postgresTarget } from '../../src/io/postgres/connection.ts';

/**
 * Issue 12 defect 7: `sslmode=require` never checked the Cloud SQL server
 * certificate. A stand-in server speaks PostgreSQL's SSLRequest and TLS with
 * a certificate named like Cloud SQL's (`project:instance`, not the IP), from
 * its own CA, then refuses the login with a marker once TLS is up.
 */
const OPENSSL = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

let dir: string;
let server: Server;
let port: number;
const pem: Record<'ca' | 'otherCa' | 'key' | 'cert', string> = { ca: '', otherCa: '', key: '', cert: '' };

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
}

beforeAll(async () => {
  if (!OPENSSL) return;
  dir = mkdtempSync(join(tmpdir(), 'pipekit-tls-'));
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=Google Cloud SQL Server CA',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
  );
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=Someone else',
    '-keyout',
    'other.key',
    '-out',
    'other.pem',
  );
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=zoomcamp-test:pipekit-db', '-keyout', 'server.key', '-out', 'server.csr');
  openssl('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-out', 'server.pem');
  pem.ca = readFileSync(join(dir, 'ca.pem'), 'utf8');
  pem.otherCa = readFileSync(join(dir, 'other.pem'), 'utf8');
  pem.key = readFileSync(join(dir, 'server.key'), 'utf8');
  pem.cert = readFileSync(join(dir, 'server.pem'), 'utf8');
  server = createServer((socket: Socket) => {
    socket.once('data', () => {
      // SSLRequest → 'S', then TLS on the same socket.
      socket.write('S');
      const tls = new TLSSocket(socket, { isServer: true, key: pem.key, cert: pem.cert });
      tls.on('error', () => socket.destroy());
      tls.once('data', () => tls.end(errorResponse('tls-verified-then-refused')));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  if (!OPENSSL) return;
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** A FATAL ErrorResponse message with `message`. */
function errorResponse(message: string): Buffer {
  const fields = Buffer.from(`SFATAL\0C28000\0M${message}\0\0`, 'utf8');
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

async function tryConnect(values: Record<string, string>): Promise<string> {
  const profile = new IoProfile({
    name: 'cloud',
    file: '/p/io_config.yaml',
    root: '/p',
    values: { POSTGRES_HOST: '127.0.0.1', POSTGRES_PORT: String(port), POSTGRES_USER: 'pipekit', POSTGRES_PASSWORD: 'x', ...values },
  });
  const pool = createPool(profile, { max: 1 });
  try {
    const client = await connect(pool, postgresTarget(profile));
    client.release();
    return 'connected';
  } catch (error) {
    return `${(error as Error).message} ${String((error as { cause?: Error }).cause?.message ?? '')}`;
  } finally {
    await pool.end();
  }
}

describe.skipIf(!OPENSSL)('PostgreSQL TLS verification (needs the openssl CLI)', () => {
  it('verify-ca with the instance CA gets through TLS, though the name is project:instance, not the IP', async () => {
    expect(await tryConnect({ POSTGRES_SSLMODE: 'verify-ca', POSTGRES_SSL_CA: pem.ca })).toContain('tls-verified-then-refused');
  });

  it('verify-ca refuses a server whose certificate another CA signed, before sending the password', async () => {
    const outcome = await tryConnect({ POSTGRES_SSLMODE: 'verify-ca', POSTGRES_SSL_CA: pem.otherCa });
    expect(outcome).not.toContain('tls-verified-then-refused');
    expect(outcome).toMatch(/certificate/i);
  });

  it('verify-full also checks the name, so it refuses Cloud SQL on its IP', async () => {
    const outcome = await tryConnect({ POSTGRES_SSLMODE: 'verify-full', POSTGRES_SSL_CA: pem.ca });
    expect(outcome).toMatch(/altnames|hostname|IP: 127\.0\.0\.1/i);
  });

  it('require only encrypts: any certificate passes (why the cloud no longer uses it)', async () => {
    expect(await tryConnect({ POSTGRES_SSLMODE: 'require', POSTGRES_SSL_CA: pem.otherCa })).toContain('tls-verified-then-refused');
  });

  it('a CA that is not PEM is a ConfigError naming the key', async () => {
    expect(() =>
      createPool(
        new IoProfile({
          name: 'cloud',
          file: '/p/io_config.yaml',
          root: '/p',
          values: { POSTGRES_SSLMODE: 'verify-ca', POSTGRES_SSL_CA: 'not a cert' },
        }),
      ),
    ).toThrow(/cloud\.POSTGRES_SSL_CA.*not a PEM certificate/);
  });
});

describe('the cloud profile of pipelines/io_config.yaml, with the env infra sets', () => {
  it('verifies the server against the CA it is given (a multi-line PEM survives the template)', async () => {
    const { loadIoProfile } = await import('../../src/config/io-config.ts');
    const { postgresSettings } = await import('../../src/io/settings/postgres.ts');
    const ca = '-----BEGIN CERTIFICATE-----\nMIIBfake\nline2\n-----END CERTIFICATE-----\n';
    const profile = await loadIoProfile(join(import.meta.dirname, '../../pipelines/io_config.yaml'), {
      profile: 'cloud',
      env: {
        PIPEKIT_DB_HOST: '10.100.0.3',
        PIPEKIT_DB_PASSWORD: 'x',
        PIPEKIT_DB_SSLMODE: 'verify-ca',
        PIPEKIT_DB_SERVER_CA: ca,
        GOOGLE_CLOUD_PROJECT: 'p',
        PIPEKIT_LAKE_BUCKET: 'b',
      },
    });
    expect(postgresSettings(profile)).toMatchObject({ sslmode: 'verify-ca', sslCa: ca });
  });
});
