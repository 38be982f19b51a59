import type { IncomingMessage, ServerResponse } from 'node:http';

/** A failure the API answers with its status and message (never a stack trace). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 1_000_000;

/** Reads a JSON (or form-encoded) body of at most 1 MB. */
export async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'the request body is larger than 1 MB');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text.trim()) return {};
  if ((req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    return Object.fromEntries(new URLSearchParams(text));
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'the body is not valid JSON');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApiError(400, 'the body must be a JSON object');
  return parsed as Record<string, unknown>;
}

/** Security headers on every answer: no framing, no sniffing, scripts only from us. */
export function baseHeaders(): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'same-origin',
    'content-security-policy':
      "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'",
  };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body, (_key, value) => (typeof value === 'bigint' ? value.toString() : value));
  res.writeHead(status, { ...baseHeaders(), 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

export function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.status, { error: { status: error.status, message: error.message, ...(error.hint ? { hint: error.hint } : {}) } });
}

/** A required string field of a JSON body; the 400 names it. */
export function stringField(body: Record<string, unknown>, field: string, options: { optional?: boolean } = {}): string | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === '') {
    if (options.optional) return undefined;
    throw new ApiError(400, `${field}: is required`);
  }
  if (typeof value !== 'string') throw new ApiError(400, `${field}: must be a string`);
  return value;
}

/** A `variables` object of a JSON body. */
export function variablesField(body: Record<string, unknown>): Record<string, unknown> {
  const value = body.variables ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new ApiError(400, 'variables: must be an object of name → value');
  for (const key of Object.keys(value)) {
    if (!/^[A-Za-z_]\w*$/.test(key)) throw new ApiError(400, `variables: "${key}" is not a variable name (letters, digits and _)`);
  }
  return value as Record<string, unknown>;
}
