import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { ConfigError, ConnectionError } from '../../errors.ts';
import type { SecretSource } from './secret-source.ts';

export interface SecretManagerOptions {
  /** Defaults to the project of the Application Default Credentials. */
  readonly projectId?: string;
  /** For tests: a client pointed at a local fake. */
  readonly client?: Pick<SecretManagerServiceClient, 'accessSecretVersion' | 'getProjectId'>;
}

/**
 * `{{ secret('name') }}` in the cloud: `projects/P/secrets/name/versions/latest`,
 * read once per process (a run reads each secret once).
 */
export function createSecretManagerSource(options: SecretManagerOptions = {}): SecretSource {
  const client = options.client ?? new SecretManagerServiceClient();
  const cache = new Map<string, Promise<string>>();

  async function read(name: string): Promise<string> {
    const project = options.projectId ?? (await client.getProjectId());
    const resource = `projects/${project}/secrets/${name}/versions/latest`;
    try {
      const [version] = await client.accessSecretVersion({ name: resource });
      const data = version.payload?.data;
      if (data === undefined || data === null) {
        throw new ConfigError({ file: resource, message: 'the secret version has no payload', hint: 'add a version with a value' });
      }
      return typeof data === 'string' ? data : Buffer.from(data).toString('utf8');
    } catch (error) {
      throw explain(error, name, resource);
    }
  }

  return {
    description: `Secret Manager${options.projectId ? ` (project ${options.projectId})` : ''}`,
    get(name) {
      let value = cache.get(name);
      if (!value) {
        value = read(name);
        cache.set(name, value);
        value.catch(() => cache.delete(name));
      }
      return value;
    },
  };
}

function explain(error: unknown, name: string, resource: string): Error {
  if (error instanceof ConfigError) return error;
  const code = (error as { code?: number }).code;
  const message = (error as Error).message ?? String(error);
  if (code === 7 || /PERMISSION_DENIED|403/.test(message)) {
    return new ConnectionError({
      target: resource,
      message: `permission denied reading secret "${name}"`,
      hint: `grant the service account roles/secretmanager.secretAccessor on secret ${name} (permission secretmanager.versions.access)`,
      cause: error,
    });
  }
  if (code === 5 || /NOT_FOUND|404/.test(message)) {
    return new ConfigError({
      file: resource,
      message: `secret "${name}" does not exist or has no enabled version`,
      hint: `create it: gcloud secrets create ${name} --data-file=-`,
    });
  }
  if (/default credentials|Could not load the default credentials/i.test(message)) {
    return new ConnectionError({
      target: resource,
      message: 'no Google credentials',
      hint: 'run `gcloud auth application-default login` on a laptop; on Cloud Run the service account is used',
      cause: error,
    });
  }
  return new ConnectionError({ target: resource, message, cause: error });
}
