/**
 * Logins, sessions, API tokens and domain administrators over the session service (accounts/sessions.ts, the
 * same code path as GraphQL's login, logout, me, sessions, revokeSession, createApiToken, apiTokens,
 * revokeApiToken, setUserAdminDomains). POST /api/login {email, password, totp_code?} -> {token, expires_at,
 * totp_setup_required}; POST /api/logout; GET /api/me; GET /api/users/{email}/sessions; DELETE
 * /api/sessions/{id}; GET, POST /api/tokens and DELETE /api/tokens/{id}; GET, PUT
 * /api/users/{email}/admin-domains {domains}. Rules: login is the one public route; every failed login is 401
 * `authentication_failed` with the same text for a wrong password, an unknown user and a blocked client, after
 * the same delay (the service's), except the one that asks for a missing TOTP code; the client address is the
 * socket's (no forwarding header is trusted); tokens are answered once, never listed; a session or token the
 * caller cannot act for is 404 (the service hides it), a token with scopes the caller does not hold is 403;
 * times are epoch milliseconds.
 */
import type { IncomingMessage } from 'node:http';
import { sendJson } from '../http/server.ts';
import { AuthenticationError } from '../repos/errors.ts';
import type { ApiTokenRow, SessionRow } from '../repos/rows.ts';
import { userJson } from './accounts.ts';
import type { RestContext } from './context.ts';
import {
  type Access,
  badRequest,
  type FieldProblem,
  HttpError,
  jsonObject,
  type RestRoute,
  readJson,
  route,
  sendError,
} from './http.ts';

const sessionJson = (s: SessionRow, currentId: number | null) => ({
  id: s.id,
  created_at: s.created_at,
  created_ip: s.created_ip,
  user_agent: s.user_agent,
  last_used_at: s.last_used_at,
  expires_at: s.expires_at,
  current: s.id === currentId,
});

const tokenJson = (t: ApiTokenRow) => ({
  id: t.id,
  name: t.name,
  scopes: t.scopes,
  created_by: t.created_by,
  created_at: t.created_at,
  last_used_at: t.last_used_at,
  expires_at: t.expires_at,
});

const FIELDS: Record<string, string> = { expiresAt: 'expires_at' };
const toField = (p: (string | number)[]) => FIELDS[String(p[0])] ?? p.join('.');

/** Checks a body's fields: each of `shape` (required or not, its type), nothing else. */
function fields(
  body: Record<string, unknown>,
  shape: Record<string, { required?: boolean; ok: (v: unknown) => boolean; what: string }>,
): void {
  const problems: FieldProblem[] = [];
  for (const [k, f] of Object.entries(shape)) {
    const v = body[k];
    if (v === undefined ? f.required : !f.ok(v))
      problems.push({ field: k, message: f.required ? `is required and must be ${f.what}` : `must be ${f.what}` });
  }
  for (const k of Object.keys(body)) if (!(k in shape)) problems.push({ field: k, message: 'is not allowed here' });
  if (problems.length) throw badRequest(problems);
}

const isString = (v: unknown) => typeof v === 'string';
const isStringList = (v: unknown) => Array.isArray(v) && v.every((x) => typeof x === 'string');

function idOf(raw: string): number {
  const id = /^\d{1,15}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(id) || id < 1) throw badRequest([{ field: 'id', message: 'must be a positive integer' }]);
  return id;
}

const PUBLIC: Access = { who: 'public' };
const ANY: Access = { who: 'user' };
const ANY_DURING_SETUP: Access = { who: 'user', totpSetup: true };
const SELF: Access = { who: 'user', target: 'path:email' };
const ADMIN: Access = { who: 'admin' };

export function sessionRoutes(ctx: RestContext): RestRoute[] {
  const { repos, sessions } = ctx.services;
  const handle =
    (fn: (...a: Parameters<RestRoute['handler']>) => unknown): RestRoute['handler'] =>
    async (req, res, p, url) => {
      try {
        await fn(req, res, p, url);
      } catch (e) {
        if (!sendError(res, e, toField)) throw e;
      }
    };
  const clientIp = (req: IncomingMessage) => req.socket.remoteAddress ?? '';

  return [
    route(
      'POST',
      '/api/login',
      'Log in: {email, password, totp_code?} -> a session token (401 authentication_failed otherwise).',
      PUBLIC,
      handle(async (req, res) => {
        const body = jsonObject(await readJson(req));
        fields(body, {
          email: { required: true, ok: isString, what: 'a string' },
          password: { required: true, ok: isString, what: 'a string' },
          totp_code: { ok: (v) => v === null || typeof v === 'string', what: 'a string or null' },
        });
        try {
          const r = await sessions.login(
            body.email as string,
            body.password as string,
            body.totp_code as string | null | undefined,
            { ip: clientIp(req), userAgent: req.headers['user-agent'] ?? null },
          );
          sendJson(res, 200, {
            token: r.token,
            expires_at: r.session.expires_at,
            totp_setup_required: r.totpSetupRequired,
          });
        } catch (e) {
          if (e instanceof AuthenticationError) throw new HttpError(401, 'authentication_failed', e.message);
          throw e;
        }
      }),
    ),
    route(
      'POST',
      '/api/logout',
      'End the calling session (logged_out: false for a token that is not a session). No body.',
      ANY_DURING_SETUP,
      handle((req, res) => sendJson(res, 200, { logged_out: sessions.logout(ctx.principal(req)) })),
    ),
    route(
      'GET',
      '/api/me',
      'The caller: actor, admin, administered domains, scopes, its user, whether TOTP enrolment is required.',
      ANY_DURING_SETUP,
      handle((req, res) => {
        const p = ctx.principal(req);
        const user = p.user ? repos.users.get(p.user.email) : undefined;
        sendJson(res, 200, {
          actor: p.actor,
          via: p.via,
          admin: p.admin,
          domains: [...p.domains].sort(),
          scopes: p.scopes,
          totp_setup_required: p.totpSetupRequired,
          session_id: p.sessionId,
          token_id: p.tokenId,
          user: user ? userJson(user) : null,
        });
      }),
    ),
    route(
      'GET',
      '/api/users/{email}/sessions',
      "A user's live login sessions (never their tokens), newest first.",
      SELF,
      handle((req, res, p) => {
        const caller = ctx.principal(req);
        sendJson(
          res,
          200,
          sessions.sessionsOf(caller, p.email!).map((s) => sessionJson(s, caller.sessionId)),
        );
      }),
    ),
    route(
      'DELETE',
      '/api/sessions/{id}',
      'End a login session (its token stops at once); 404 for one the caller may not end.',
      { who: 'user', target: 'owner' },
      handle((req, res, p) =>
        sendJson(res, 200, { deleted: sessions.revokeSession(ctx.principal(req), idOf(p.id!)).id }),
      ),
    ),
    route(
      'GET',
      '/api/tokens',
      'The API tokens whose every scope the caller holds (never the tokens themselves).',
      ANY,
      handle((req, res) => sendJson(res, 200, sessions.tokens(ctx.principal(req)).map(tokenJson))),
    ),
    route(
      'POST',
      '/api/tokens',
      'Create an API token {name, scopes, expires_at?} with scopes the caller holds; the answer carries `token` once.',
      { who: 'user', target: 'scopes' },
      handle(async (req, res) => {
        const body = jsonObject(await readJson(req));
        fields(body, {
          name: { required: true, ok: isString, what: 'a string' },
          scopes: { required: true, ok: isStringList, what: 'a list of admin, domain:<name>, user:<address>' },
          expires_at: {
            ok: (v) => v === null || (typeof v === 'number' && Number.isSafeInteger(v)),
            what: 'epoch milliseconds or null',
          },
        });
        const { token, row } = sessions.createToken(
          ctx.principal(req),
          body.name as string,
          body.scopes as string[],
          body.expires_at as number | null | undefined,
        );
        sendJson(res, 201, { ...tokenJson(row), token });
      }),
    ),
    route(
      'DELETE',
      '/api/tokens/{id}',
      'Revoke an API token (it stops at once); 404 for one the caller may not see.',
      { who: 'user', target: 'owner' },
      handle((req, res, p) =>
        sendJson(res, 200, { deleted: sessions.revokeToken(ctx.principal(req), idOf(p.id!)).id }),
      ),
    ),
    route(
      'GET',
      '/api/users/{email}/admin-domains',
      'The domains a user administers.',
      ADMIN,
      handle((_req, res, p) => {
        const u = repos.users.require(p.email!);
        sendJson(res, 200, { email: u.email, domains: repos.domainAdmins.domainsOf(u.id) });
      }),
    ),
    route(
      'PUT',
      '/api/users/{email}/admin-domains',
      'Make a user the administrator of exactly these domains: {domains: [...]} ([] for none).',
      ADMIN,
      handle(async (req, res, p) => {
        const body = jsonObject(await readJson(req));
        fields(body, { domains: { required: true, ok: isStringList, what: 'a list of domain names' } });
        const domains = sessions.setAdminDomains(ctx.principal(req), p.email!, body.domains as string[]);
        sendJson(res, 200, { email: repos.users.require(p.email!).email, domains });
      }),
    ),
  ];
}
