import type { Response } from '@google-cloud/functions-framework';
import type { z } from 'zod';
import { describeError, InvalidInputError, isPipekitError, NotFoundError } from '../src/errors.ts';
import { logLine } from './log.ts';

/** An answer with a status: 400 invalid input, 401 bad token, 404 unknown pipeline. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

/** Parses a JSON body with a zod schema; the 400 names the first bad field. */
export function parseBody<T>(schema: z.ZodType<T>, body: unknown): T {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object (send Content-Type: application/json)', 'body');
  }
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.map(String).join('.') || 'body';
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') message = `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.join(', ')}`;
  throw new HttpError(400, `${field}: ${message}`, field);
}

/** Sends an error as `{ error: { status, message, field? } }`, never a stack trace. */
export function sendError(res: Response, error: unknown, fn: string): void {
  if (error instanceof HttpError) {
    res
      .status(error.status)
      .json({ error: { status: error.status, message: error.message, ...(error.field ? { field: error.field } : {}) } });
    return;
  }
  if (error instanceof InvalidInputError) {
    res
      .status(400)
      .json({ error: { status: 400, message: error.message, field: error.field, ...(error.hint ? { hint: error.hint } : {}) } });
    return;
  }
  if (error instanceof NotFoundError) {
    res.status(404).json({ error: { status: 404, message: error.message, hint: error.hint } });
    return;
  }
  logLine('ERROR', `${fn} failed: ${describeError(error)}`, { function: fn });
  const status = isPipekitError(error) && error.code === 'CONNECTION' ? 502 : 500;
  res.status(status).json({ error: { status, message: describeError(error) } });
}

/** Only POST starts things; anything else is a 405 that says so. */
export function requirePost(method: string): void {
  if (method !== 'POST') throw new HttpError(405, `use POST (got ${method})`);
}
