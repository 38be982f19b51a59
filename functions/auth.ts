import { createHash, timingSafeEqual } from 'node:crypto';
import { HttpError } from './http-error.ts';

/**
 * Checks `Authorization: Bearer <PIPEKIT_API_TOKEN>`.
 *
 * Both sides are hashed before `timingSafeEqual`, so neither the token nor
 * its length leaks through timing. With `PIPEKIT_FUNCTIONS_AUTH=iam` the
 * check is skipped: deploy the function private (no allUsers invoker) and
 * Cloud Run verifies the caller's Google identity token before we run.
 * Without a token and without `iam`, every call is refused (fail closed).
 */
export function checkBearer(header: string | undefined, env: NodeJS.ProcessEnv = process.env): void {
  if (env.PIPEKIT_FUNCTIONS_AUTH === 'iam') return;
  const expected = env.PIPEKIT_API_TOKEN;
  if (!expected) {
    throw new HttpError(
      503,
      'PIPEKIT_API_TOKEN is not configured on this function, so nothing can be started: set it (infra/ mounts it from Secret Manager) or set PIPEKIT_FUNCTIONS_AUTH=iam on a private function',
    );
  }
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) throw new HttpError(401, 'missing bearer token: send Authorization: Bearer <PIPEKIT_API_TOKEN>');
  if (!sameSecret(match[1]!.trim(), expected)) throw new HttpError(401, 'the bearer token is not valid');
}

/** Constant-time comparison of two secrets of any length. */
export function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
