/**
 * Cloud SQL on its private IP, as the graph declares it: PostgreSQL behind
 * `sslMode: ENCRYPTED_ONLY`. A small proxy answers PostgreSQL's SSLRequest,
 * terminates TLS with a server certificate issued by the instance's own CA
 * (CN `<project>:<instance>`, no IP in it — Cloud SQL's per-instance CA), and
 * pipes the session to the local PostgreSQL. A client that does not ask for
 * TLS is refused like Cloud SQL refuses it. It listens on port 5432 of a
 * loopback address of its own, so only the IP in the job's env is mapped.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TLSSocket } from 'node:tls';

export interface CertificateAuthority {
  readonly caPem: string;
  readonly keyPem: string;
  readonly certPem: string;
}

/** A CA and a server certificate it signed, made with the system's openssl. */
export function makeServerCertificate(commonName: string): CertificateAuthority {
  const dir = mkdtempSync(join(tmpdir(), 'pipekit-rehearsal-ca-'));
  try {
    const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    run(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '2',
      '-subj',
      '/CN=Google Cloud SQL Server CA/O=Google, Inc',
    );
    run(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
      '-subj',
      `/CN=${commonName}/O=Google, Inc`,
    );
    run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2');
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { caPem: read('ca.pem'), keyPem: read('server.key'), certPem: read('server.pem') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface CloudSqlStandIn {
  /** The loopback address that stands for the instance's private IP. */
  readonly address: string;
  readonly port: number;
  /** Sessions refused because the client did not ask for TLS. */
  readonly refusedPlaintext: number;
  readonly sessions: number;
  close(): Promise<void>;
}

const SSL_REQUEST = 80877103;
const GSS_REQUEST = 80877104;

export async function startCloudSql(options: {
  upstreamHost: string;
  upstreamPort: number;
  certificate: () => CertificateAuthority;
}): Promise<CloudSqlStandIn> {
  const counters = { refusedPlaintext: 0, sessions: 0 };
  const server: Server = createServer((socket) => handle(socket).catch(() => socket.destroy()));

  async function handle(socket: Socket): Promise<void> {
    let code = await firstCode(socket);
    if (code === GSS_REQUEST) {
      socket.write('N');
      code = await firstCode(socket);
    }
    if (code !== SSL_REQUEST) {
      counters.refusedPlaintext += 1;
      socket.end(
        errorResponse('28000', 'pg_hba.conf rejects connection: the instance accepts encrypted connections only (sslMode ENCRYPTED_ONLY)'),
      );
      return;
    }
    socket.write('S');
    const { keyPem, certPem } = options.certificate();
    const tls = new TLSSocket(socket, { isServer: true, key: keyPem, cert: certPem });
    const upstream = createConnection({ host: options.upstreamHost, port: options.upstreamPort });
    counters.sessions += 1;
    tls.pipe(upstream).pipe(tls);
    const close = () => {
      tls.destroy();
      upstream.destroy();
    };
    tls.on('error', close);
    upstream.on('error', close);
    tls.on('close', close);
    upstream.on('close', close);
  }

  let address = '';
  for (let attempt = 0; attempt < 20 && !address; attempt++) {
    const candidate = `127.${1 + Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}.${2 + Math.floor(Math.random() * 250)}`;
    address = await new Promise<string>((resolve) => {
      server.once('error', () => resolve(''));
      server.listen(5432, candidate, () => resolve(candidate));
    });
  }
  if (!address) throw new Error('Cloud SQL stand-in: no free loopback address for port 5432');
  return {
    address,
    port: 5432,
    get refusedPlaintext() {
      return counters.refusedPlaintext;
    },
    get sessions() {
      return counters.sessions;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Reads one length-prefixed start packet and returns its code (protocol version or request code). */
function firstCode(socket: Socket): Promise<number> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (buffer.length < 8) return;
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return;
      socket.off('data', onData);
      socket.pause();
      if (buffer.length > length) socket.unshift(buffer.subarray(length));
      resolve(buffer.readInt32BE(4));
    };
    socket.on('data', onData);
    socket.once('error', reject);
    socket.once('end', () => reject(new Error('closed before the start packet')));
  });
}

function errorResponse(code: string, message: string): Buffer {
  const fields = Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8')]);
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}
