import type { PostgresSettings } from '../settings/postgres.ts';

/**
 * Starts the project's own server when the settings say `embedded`, with the
 * very port and credentials the connections will use; a no-op otherwise.
 */
export async function ensureEmbeddedServer(settings: PostgresSettings): Promise<void> {
  if (!settings.embedded) return;
  // Loaded only for embedded profiles: the cloud never needs the server manager.
  const { ensurePostgresRunning } = await import('../../services/postgres-server.ts');
  await ensurePostgresRunning({
    root: settings.root,
    port: settings.port,
    user: settings.user,
    password: settings.password,
    database: settings.database,
  });
}
