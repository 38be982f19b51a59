import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { dirname, join } from 'node:path';

export const SESSION_COOKIE = 'pipekit_console';

/** Where the console's token came from: only a token pipekit wrote to a file of the user's own may be shown. */
export type TokenSource = 'option' | 'environment' | 'file';

/**
 * The console's write token: the one given, else PIPEKIT_API_TOKEN (the
 * cloud: from Secret Manager), else `<project>/.pipekit/console-token`,
 * generated once (mode 0600) so a laptop has no anonymous writes either.
 */
export function resolveConsoleToken(
  projectRoot: string,
  given?: string,
  env: NodeJS.ProcessEnv = process.env,
): { token: string; file?: string; source: TokenSource } {
  if (given) return { token: given, source: 'option' };
  if (env.PIPEKIT_API_TOKEN) return { token: env.PIPEKIT_API_TOKEN, source: 'environment' };
  const file = join(projectRoot, '.pipekit', 'console-token');
  if (existsSync(file)) {
    const token = readFileSync(file, 'utf8').trim();
    if (token) return { token, file, source: 'file' };
  }
  mkdirSync(dirname(file), { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return { token, file, source: 'file' };
}

/** Constant-time equality of two secrets of any length. */
export function sameSecret(a: string, b: string): boolean {
  return timingSafeEqual(createHash('sha256').update(a).digest(), createHash('sha256').update(b).digest());
}

/**
 * What the session cookie holds: an HMAC of the token, not the token itself,
 * so a leaked cookie cannot be replayed as an API bearer token.
 */
export function sessionValue(token: string): string {
  return createHmac('sha256', token).update('pipekit-console-session').digest('base64url');
}

/**
 * Whether the browser reached the console over HTTPS: a TLS socket, or the
 * load balancer's `X-Forwarded-Proto` (Cloud Run sits behind one). A
 * `Secure` cookie sent over plain HTTP is dropped by the browser, so sign-in
 * could never work there.
 */
export function isHttps(req: IncomingMessage): boolean {
  if ((req.socket as { encrypted?: boolean }).encrypted) return true;
  const forwarded = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https';
}

export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${sessionValue(token)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=604800${secure ? '; Secure' : ''}`;
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

/**
 * May this request write? A bearer token, or the session cookie on a
 * same-origin request (SameSite=Strict plus an Origin check when the browser
 * sends one, so another site cannot post with the user's cookie).
 */
export function isAuthorized(req: IncomingMessage, token: string): boolean {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  if (bearer) return sameSecret(bearer[1]!.trim(), token);
  const cookie = cookieOf(req, SESSION_COOKIE);
  if (!cookie || !sameSecret(cookie, sessionValue(token))) return false;
  const origin = req.headers.origin;
  if (origin && origin !== 'null') {
    try {
      if (new URL(origin).host !== req.headers.host) return false;
    } catch {
      return false;
    }
  }
  return true;
}

/** Whether the request carries a valid session (for the page to show "signed in"). */
export function hasSession(req: IncomingMessage, token: string): boolean {
  const cookie = cookieOf(req, SESSION_COOKIE);
  return Boolean(cookie && sameSecret(cookie, sessionValue(token)));
}
