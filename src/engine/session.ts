import { join } from 'node:path';
import type { RunAlertOptions } from '../alerts/slack.ts';
import { loadIoProfile } from '../config/io-config.ts';
import type { IoProfile } from '../config/io-profile.ts';
import type { SecretSource } from '../config/secrets/secret-source.ts';
import { openConnectors, type InjectedClients, type OpenConnectors } from '../io/connectors.ts';
import { connect, connectionLost, createPool, withConnectionErrors } from '../io/postgres/connection.ts';
import { ensureEmbeddedServer } from '../io/postgres/embedded.ts';
import { connectorSettings } from '../io/settings/index.ts';
import { pipelineNames } from '../project/build-project.ts';
import { openProject } from '../project/open-project.ts';
import type { PipelineSpec, Project } from '../project/model.ts';
import { parseDuration } from '../project/duration.ts';
import { NotFoundError } from '../errors.ts';
import { createPostgresRunStore } from '../runs/postgres-store.ts';
import type { RunRecord } from '../runs/model.ts';
import type { RunStore } from '../runs/store.ts';
import { Reconciler } from '../runs/reconciler.ts';
import { runPipeline, type RunPipelineOptions, type RunResult } from './runner.ts';
import { Workspace } from './workspace.ts';

/** A run in a session: the session supplies the profile, store, workspace, alerts and the run's connectors. */
export interface SessionRunOptions extends Omit<RunPipelineOptions, 'profile' | 'store' | 'workspace' | 'connectors' | 'alerts'> {
  /** Where connectors report problems closing (the console's log); default nowhere. */
  readonly log?: (message: string) => void;
}

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
  /** Ends runs whose process or Cloud Run task is gone; `runs`, the console and `run` call it before they read or start runs. */
  readonly reconciler: Reconciler;
  pipeline(name: string): PipelineSpec;
  /** Fresh connectors for one run; the caller closes them. */
  connectors(log?: (message: string) => void): OpenConnectors;
  /**
   * Runs a pipeline the one way every command does: connectors opened for
   * this run, the engine's runPipeline with the session's store, workspace,
   * alerts and reconciler, the connectors closed however the run ends.
   */
  runPipeline(options: SessionRunOptions): Promise<RunResult>;
  close(): Promise<void>;
}

export interface OpenSessionOptions {
  readonly projectRoot: string;
  readonly profile?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly secrets?: SecretSource;
  /** Google clients for the connectors (tests point them at local fakes). */
  readonly clients?: InjectedClients;
  /** Read only these pipelines (a run, a backfill); default every pipeline of the project. */
  readonly pipelines?: readonly string[];
}

export async function openSession(options: OpenSessionOptions): Promise<Session> {
  const project = await openProject(options.projectRoot, { only: options.pipelines });
  const profile = await loadIoProfile(project.ioConfigFile, { profile: options.profile, env: options.env, secrets: options.secrets });
  const store = await openRunStore(profile);
  const workspace = new Workspace(profile.path('WORKSPACE_URI', '.pipekit/workspace'));
  const retention = profile.get('WORKSPACE_RETENTION') ?? '7d';
  const alerts: RunAlertOptions | undefined = profile.has('ALERT_WEBHOOK_URL')
    ? {
        webhookUrl: profile.require('ALERT_WEBHOOK_URL'),
        consoleUrl: profile.get('CONSOLE_URL'),
        onSuccess: profile.bool('ALERT_ON_SUCCESS', false),
      }
    : undefined;
  // The Run API client is made only when a run owned by a Cloud Run task is met.
  const reconciler = new Reconciler({ store, alerts, env: options.env ?? process.env });
  return {
    project,
    profile,
    store,
    workspace,
    retentionMs: parseDuration(retention),
    alerts,
    reconciler,
    pipeline(name) {
      const spec = project.pipelines.get(name);
      if (!spec) {
        throw new NotFoundError(`there is no pipeline "${name}" in ${project.root}`, {
          hint: `pipelines: ${pipelineNames(project.root).join(', ') || '(none)'}; create one with: pipekit new pipeline ${name}`,
        });
      }
      return spec;
    },
    connectors: (log) => openConnectors(profile, { log, clients: options.clients }),
    async runPipeline({ log, ...run }) {
      const connectors = openConnectors(profile, { log, clients: options.clients });
      try {
        // A tick or date already claimed by a run whose process is gone is taken over, not skipped.
        const reconcile = (holder: RunRecord) => reconciler.reconcileRun(holder);
        return await runPipeline({ reconcile, ...run, profile: profile.name, store, workspace, connectors, alerts });
      } finally {
        await connectors.close();
      }
    },
    close: async () => {
      await reconciler.close();
      await store.close();
    },
  };
}

/** The run store lives in the profile's Postgres, database RUN_STORE_DBNAME (default POSTGRES_DBNAME). */
export async function openRunStore(profile: IoProfile): Promise<RunStore> {
  const settings = connectorSettings(profile).runStore;
  await ensureEmbeddedServer(settings);
  const pool = createPool(settings, { max: 4 });
  // Fail here, with the connection explained, rather than on the first insert.
  (await connect(pool, settings)).release();
  // Losing the server mid-run is a ConnectionError saying what to do, not pg's bare message.
  return withConnectionErrors(
    await createPostgresRunStore(pool).catch((error) => Promise.reject(connectionLost(error, settings))),
    settings,
  );
}

/** `<project>/.pipekit`: the embedded server, lake, warehouse and workspace of the local profile. */
export function stateDir(project: Project): string {
  return join(project.root, '.pipekit');
}
