/**
 * REST plumbing: JSON bodies, JSON errors, path patterns, and each route's access declaration. Rules: every error
 * is JSON with an `error` code and a `message`; validation errors list each bad field as {field, message}; a
 * password or code that does not match is 403 `authentication_failed` (401 stays the bearer token's, and the
 * login's); a caller whose scopes do not cover the target is 403 `forbidden` (ForbiddenError); bodies over 1 MiB
 * are refused (413); a body that is not JSON is a 400 naming the problem; a request's body is read once (the
 * access check and the handler share it). Every route declares who may call it (`Access`): the declaration is
 * what server.ts enforces and what /api/openapi.json lists as `x-mailyard-access`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/server.ts';
import {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
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

const bodies = new WeakMap<IncomingMessage, Promise<unknown>>();

/** The request's JSON body, read once per request (a second call answers the same value or error). */
export async function readJson(req: IncomingMessage): Promise<unknown> {
  const body = await readOptionalJson(req);
  if (body === undefined) throw new HttpError(400, 'invalid_json', 'a JSON request body is required');
  return body;
}

/** The request's JSON body, or undefined when it has none (an empty body). */
export function readOptionalJson(req: IncomingMessage): Promise<unknown> {
  let body = bodies.get(req);
  if (!body) {
    body = readBody(req);
    bodies.set(req, body);
  }
  return body;
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY)
      throw new HttpError(413, 'payload_too_large', `request bodies are limited to ${MAX_BODY} bytes`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return undefined;
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
  else if (e instanceof ForbiddenError) sendJson(res, 403, { error: 'forbidden', message: e.message });
  else return false;
  return true;
}

export type Params = Record<string, string>;
export type RestHandler = (req: IncomingMessage, res: ServerResponse, params: Params, url: URL) => Promise<void> | void;

/**
 * Who may call a route:
 * - `admin`: the admin token or a token with the admin scope;
 * - `domain`: an admin, or a domain administrator, of the domain the target names (a listing without a target
 *   shows only the caller's domains);
 * - `user`: any caller, acting on a user it is or manages (auth/principal.ts canActAsUser), or on its own things;
 * - `public`: no token (login).
 */
export type Who = 'admin' | 'domain' | 'user' | 'public';

export interface Access {
  who: Who;
  /**
   * Where the request names what it acts on, checked before the handler runs: `path:<param>`, `body:<field>`
   * (required: a missing one is a 400) or `query:<param>` (optional: a list filter). The value is a domain name
   * or an address (it has an `@`; `domain` routes check the address's domain). Two targets the services check
   * themselves: `scopes` (a new token's scopes must be the caller's: 403 otherwise) and `owner` (a session or
   * token id: one the caller cannot act for is 404, so nothing about it leaks). No target: the route acts on
   * the caller's own things, or lists only what the caller may see.
   */
  target?: `path:${string}` | `body:${string}` | `query:${string}` | 'scopes' | 'owner';
  /** Callable by a session that must still enrol TOTP (its domain enforces it): me, enrolment, logout. */
  totpSetup?: boolean;
}

export interface RestRoute {
  method: string;
  pattern: string;
  summary: string;
  access: Access;
  handler: RestHandler;
  regex: RegExp;
  keys: string[];
}

export function route(
  method: string,
  pattern: string,
  summary: string,
  access: Access,
  handler: RestHandler,
): RestRoute {
  const keys: string[] = [];
  const regex = new RegExp(
    `^${pattern.replace(/\{(\w+)\}/g, (_, k: string) => {
      keys.push(k);
      return '([^/]+)';
    })}$`,
  );
  const [where, name] = access.target?.split(':') ?? [];
  if (where === 'path' && !keys.includes(name!))
    throw new Error(`${method} ${pattern}: the access target ${access.target} is not a path parameter`);
  return { method, pattern, summary, access, handler, regex, keys };
}
