import { join } from 'node:path';
import type { RunAlertOptions } from '../alerts/slack.ts';
import { loadIoProfile } from '../config/io-config.ts';
import type { IoProfile } from '../config/io-profile.ts';
import type { SecretSource } from '../config/secrets/secret-source.ts';
import { ensureProfilePostgres, openConnectors, type InjectedClients, type OpenConnectors } from '../io/connectors.ts';
import { connect, connectionLost, createPool, postgresTarget, withConnectionErrors } from '../io/postgres/connection.ts';
import { loadProject } from '../project/load-project.ts';
import type { PipelineSpec, Project } from '../project/model.ts';
import { parseDuration } from '../project/duration.ts';
import { NotFoundError } from '../errors.ts';
import { createPostgresRunStore } from '../runs/postgres-store.ts';
import type { RunStore } from '../runs/store.ts';
import { Workspace } from './workspace.ts';

/**
 * Everything a command needs from a project folder and a profile: the
 * validated pipelines, the rendered io_config profile, the run store and the
 * run workspace. The CLI, the console and the Cloud Run entrypoint all start here.
 */
export interface Session {
  readonly project: Project;
  readonly profile: IoProfile;
  readonly store: RunStore;
  readonly workspace: Workspace;
  /** Failure alerts from ALERT_WEBHOOK_URL / CONSOLE_URL / ALERT_ON_SUCCESS; undefined when no webhook is set. */
  readonly alerts?: RunAlertOptions;
  /** Workspace retention in milliseconds (WORKSPACE_RETENTION, default 7d). */
  readonly retentionMs: number;
  pipeline(name: string): PipelineSpec;
  /** Fresh connectors for one run; the caller closes them. */
  connectors(log?: (message: string) => void): OpenConnectors;
  close(): Promise<void>;
}

export interface OpenSessionOptions {
  readonly projectRoot: string;
  readonly profile?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly secrets?: SecretSource;
  /** Google clients for the connectors (tests point them at local fakes). */
  readonly clients?: InjectedClients;
}

export async function openSession(options: OpenSessionOptions): Promise<Session> {
  const project = loadProject(options.projectRoot);
  const profile = await loadIoProfile(project.ioConfigFile, { profile: options.profile, env: options.env, secrets: options.secrets });
  const store = await openRunStore(profile);
  const workspace = new Workspace(profile.path('WORKSPACE_URI', '.pipekit/workspace'));
  const retention = profile.get('WORKSPACE_RETENTION') ?? '7d';
  return {
    project,
    profile,
    store,
    workspace,
    retentionMs: parseDuration(retention),
    alerts: profile.has('ALERT_WEBHOOK_URL')
      ? { webhookUrl: profile.require('ALERT_WEBHOOK_URL'), consoleUrl: profile.get('CONSOLE_URL'), onSuccess: profile.bool('ALERT_ON_SUCCESS', false) }
      : undefined,
    pipeline(name) {
      const spec = project.pipelines.get(name);
      if (!spec) {
        throw new NotFoundError(`there is no pipeline "${name}" in ${project.root}`, {
          hint: `pipelines: ${[...project.pipelines.keys()].join(', ') || '(none)'}; create one with: pipekit new pipeline ${name}`,
        });
      }
      return spec;
    },
    connectors: (log) => openConnectors(profile, { log, clients: options.clients }),
    close: () => store.close(),
  };
}

/** The run store lives in the profile's Postgres, database RUN_STORE_DBNAME (default POSTGRES_DBNAME). */
export async function openRunStore(profile: IoProfile): Promise<RunStore> {
  const database = profile.get('RUN_STORE_DBNAME') ?? profile.get('POSTGRES_DBNAME') ?? 'postgres';
  await ensureProfilePostgres(profile, database);
  const storeProfile = profile.withValues({ POSTGRES_DBNAME: database });
  const pool = createPool(storeProfile, { max: 4 });
  // Fail here, with the connection explained, rather than on the first insert.
  const target = postgresTarget(storeProfile);
  (await connect(pool, target)).release();
  // Losing the server mid-run is a ConnectionError saying what to do, not pg's bare message.
  return withConnectionErrors(await createPostgresRunStore(pool).catch((error) => Promise.reject(connectionLost(error, target))), target);
}

/** `<project>/.pipekit`: the embedded server, lake, warehouse and workspace of the local profile. */
export function stateDir(project: Project): string {
  return join(project.root, '.pipekit');
}
