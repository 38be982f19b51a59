import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../../errors.ts';

/**
 * The TLS options of a PostgreSQL connection from libpq's `sslmode`:
 * - `disable`/`allow`/`prefer`: no TLS;
 * - `require`: encrypted, the certificate not checked (what libpq means by it);
 * - `verify-ca`: the server's certificate must chain to `ca` (PEM; the
 *   system's roots when absent), its host name is not compared: Cloud SQL's
 *   per-instance CA issues a certificate named `project:instance`, never the
 *   private IP the workloads connect to;
 * - `verify-full`: the chain and the host name.
 */
export function postgresTls(
  sslmode: string,
  ca: string | undefined,
  where: { file: string; profile: string },
): false | (ConnectionOptions & { rejectUnauthorized: boolean }) {
  const mode = sslmode.toLowerCase();
  if (mode === 'disable' || mode === 'allow' || mode === 'prefer') return false;
  if (mode === 'require') return { rejectUnauthorized: false };
  const roots = ca?.trim() ? { ca: ca.trim() } : {};
  if (ca?.trim() && !ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError({
      file: where.file,
      key: `${where.profile}.POSTGRES_SSL_CA`,
      message: 'is not a PEM certificate',
      hint: 'give the server CA itself (-----BEGIN CERTIFICATE----- …); infra/ sets it from the Cloud SQL instance as PIPEKIT_DB_SERVER_CA',
    });
  }
  if (mode === 'verify-ca')
    return { ...roots, rejectUnauthorized: true, checkServerIdentity: (_host: string, _cert: PeerCertificate) => undefined };
  if (mode === 'verify-full') return { ...roots, rejectUnauthorized: true, checkServerIdentity };
  throw new ConfigError({
    file: where.file,
    key: `${where.profile}.POSTGRES_SSLMODE`,
    message: `${JSON.stringify(sslmode)} is not an SSL mode`,
    hint: 'use disable, require, verify-ca or verify-full',
  });
}
