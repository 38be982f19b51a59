import { GoogleAuth } from 'google-auth-library';
import { ConnectionError } from '../../src/errors.ts';

export interface GoogleRestRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  /** What is being called, for the error (`Cloud Build`, `Compute Engine API`). */
  readonly target: string;
  /** What to do when the API cannot be reached. */
  readonly unreachableHint: string;
}

/**
 * A Google REST API as `pulumi up`'s commands call it: JSON over fetch with the caller's
 * application-default credentials, or with none at `endpoint` (a local fake). Returns the
 * response whatever its status (each caller reads its own error bodies); not reaching the API,
 * credentials included, is a ConnectionError saying what to check.
 */
export function googleRest(defaultRoot: string, endpoint: string | undefined): (request: GoogleRestRequest) => Promise<Response> {
  const auth = endpoint ? undefined : new GoogleAuth({ scopes: ['https://www.googleapis.com/auth/cloud-platform'] });
  const root = (endpoint ?? defaultRoot).replace(/\/$/, '');
  return async ({ method, path, body, target, unreachableHint }) => {
    try {
      const token = auth ? await auth.getAccessToken() : undefined;
      return await fetch(`${root}${path}`, {
        method,
        headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ConnectionError({
        target,
        message: `could not reach it: ${(error as Error).message}`,
        hint: unreachableHint,
        cause: error,
      });
    }
  };
}
