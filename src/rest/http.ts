/**
 * REST plumbing: JSON bodies, JSON errors, path patterns. Rules: every error is JSON with an `error` code and a
 * `message`; validation errors list each bad field as {field, message}; a password or code that does not match
 * is 403 `authentication_failed` (401 stays the bearer token's); bodies over 1 MiB are refused (413);
 * a body that is not JSON is a 400 naming the problem.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/server.ts';
import {
  AuthenticationError,
  ConflictError,
  InvalidInputError,
  NotFoundError,
  ValidationError,
} from '../repos/errors.ts';

export const MAX_BODY = 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export interface FieldProblem {
  field: string;
  message: string;
}

export const badRequest = (fields: FieldProblem[]) =>
  new HttpError(
    400,
    'validation_failed',
    `invalid input: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`,
    { fields },
  );

export async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new HttpError(413, 'payload_too_large', `request bodies are limited to ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) throw new HttpError(400, 'invalid_json', 'a JSON request body is required');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, 'invalid_json', `the request body is not valid JSON: ${(e as Error).message}`);
  }
}

export function jsonObject(v: unknown, field = '(body)'): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw badRequest([{ field, message: 'must be a JSON object' }]);
  return v as Record<string, unknown>;
}

/** Maps service errors to HTTP; `toField` turns a service path (columns etc.) into the REST field name. */
export function sendError(
  res: ServerResponse,
  e: unknown,
  toField: (path: (string | number)[]) => string = (p) => p.join('.'),
): boolean {
  if (e instanceof HttpError) sendJson(res, e.status, { error: e.error, message: e.message, ...e.extra });
  else if (e instanceof ValidationError) {
    const fields = e.issues.map((i) => ({ field: toField(i.path), message: i.message }));
    sendJson(res, 400, { error: 'validation_failed', message: badRequest(fields).message, fields });
  } else if (e instanceof InvalidInputError) {
    const fields = [{ field: toField([e.field ?? '(body)']), message: e.message }];
    sendJson(res, 400, { error: 'validation_failed', message: e.message, fields });
  } else if (e instanceof NotFoundError) sendJson(res, 404, { error: 'not_found', message: e.message });
  else if (e instanceof ConflictError) sendJson(res, 409, { error: 'conflict', message: e.message });
  else if (e instanceof AuthenticationError) sendJson(res, 403, { error: 'authentication_failed', message: e.message });
  else return false;
  return true;
}

export type Params = Record<string, string>;
export type RestHandler = (req: IncomingMessage, res: ServerResponse, params: Params, url: URL) => Promise<void> | void;

export interface RestRoute {
  method: string;
  pattern: string;
  summary: string;
  handler: RestHandler;
  regex: RegExp;
  keys: string[];
}

export function route(method: string, pattern: string, summary: string, handler: RestHandler): RestRoute {
  const keys: string[] = [];
  const regex = new RegExp(
    `^${pattern.replace(/\{(\w+)\}/g, (_, k: string) => {
      keys.push(k);
      return '([^/]+)';
    })}$`,
  );
  return { method, pattern, summary, handler, regex, keys };
}
