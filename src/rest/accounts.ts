/**
 * /api/users and /api/aliases over the account service (the same code path as GraphQL).
 * Users: POST {email, password, quota?, status?, full_name?} (the domain comes from the address and must exist),
 * GET list (?domain=), GET/PUT/DELETE one, PUT /api/users/{email}/password {current_password?, password}.
 * Aliases: POST {address, destinations}, GET list (?domain=), GET and DELETE one. Rules: password hashes are
 * never returned; PUT may change password, quota, status, full_name; the password route checks
 * current_password when given (403 authentication_failed if wrong) and an administrator, for now the only
 * caller, may omit it.
 */
import { sendJson } from '../http/server.ts';
import type { AliasRow, UserRow } from '../repos/rows.ts';
import type { RestContext } from './context.ts';
import { badRequest, type FieldProblem, jsonObject, type RestRoute, readJson, route, sendError } from './http.ts';

const userJson = (u: UserRow) => ({
  id: u.id,
  email: u.email,
  full_name: u.full_name,
  quota: u.quota,
  used_bytes: u.used_bytes,
  status: u.status,
  totp_enabled: u.totp_enabled,
  last_login_at: u.last_login_at,
  created_at: u.created_at,
  updated_at: u.updated_at,
});

const aliasJson = (a: AliasRow) => ({
  id: a.id,
  address: a.address,
  destinations: a.destinations,
  status: a.status,
  created_at: a.created_at,
});

const USER_FIELDS = new Set(['email', 'password', 'quota', 'status', 'full_name']);

function userInput(body: Record<string, unknown>, creating: boolean) {
  const problems: FieldProblem[] = [];
  for (const k of Object.keys(body))
    if (!USER_FIELDS.has(k) && k !== 'id') problems.push({ field: k, message: 'is not a user field' });
  const str = (k: string, required: boolean) => {
    const v = body[k];
    if (v === undefined || (v === null && !required)) return v as undefined | null;
    if (typeof v !== 'string')
      problems.push({ field: k, message: required ? 'is required and must be a string' : 'must be a string' });
    return v as string;
  };
  const email = creating ? str('email', true) : undefined;
  const password = str('password', creating);
  const full_name = str('full_name', false);
  const status = str('status', false);
  const quota = body.quota;
  if (quota !== undefined && quota !== null && (typeof quota !== 'number' || !Number.isSafeInteger(quota) || quota < 0))
    problems.push({ field: 'quota', message: 'must be a whole number of bytes, 0 or more (0 = unlimited)' });
  if (creating && email === undefined && !problems.some((p) => p.field === 'email'))
    problems.push({ field: 'email', message: 'is required' });
  if (problems.length) throw badRequest(problems);
  return {
    email,
    password,
    fullName: full_name,
    status: (status ?? undefined) as UserRow['status'] | undefined,
    quota: quota as number | null | undefined,
  };
}

export function accountRoutes(ctx: RestContext): RestRoute[] {
  const { repos, accounts } = ctx.services;
  const domainId = (url: URL) => {
    const d = url.searchParams.get('domain');
    if (!d) return undefined;
    return repos.domains.require(d).id;
  };
  const toField = (p: (string | number)[]) => (p[0] === 'fullName' ? 'full_name' : p.join('.'));
  return [
    route('GET', '/api/users', 'List users (?domain=).', (_req, res, _p, url) => {
      try {
        sendJson(res, 200, repos.users.list({ domainId: domainId(url), limit: 10_000 }).map(userJson));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route('POST', '/api/users', 'Create a user in an existing domain.', async (req, res) => {
      try {
        const i = userInput(jsonObject(await readJson(req)), true);
        const u = await accounts.createUser(ctx.actor(req), i.email!, i.password!, {
          fullName: i.fullName,
          quota: i.quota,
          status: i.status,
        });
        sendJson(res, 201, userJson(u));
      } catch (e) {
        if (!sendError(res, e, toField)) throw e;
      }
    }),
    route('GET', '/api/users/{email}', 'Show a user.', (_req, res, p) => {
      try {
        sendJson(res, 200, userJson(repos.users.require(decodeURIComponent(p.email!))));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route('PUT', '/api/users/{email}', 'Change password, quota, status or full_name.', async (req, res, p) => {
      try {
        const email = decodeURIComponent(p.email!);
        const i = userInput(jsonObject(await readJson(req)), false);
        repos.users.require(email);
        if (i.password) await accounts.setPassword(ctx.actor(req), email, i.password);
        const u =
          i.fullName !== undefined || i.quota !== undefined || i.status !== undefined
            ? accounts.updateUser(ctx.actor(req), email, { fullName: i.fullName, quota: i.quota, status: i.status })
            : repos.users.require(email);
        sendJson(res, 200, userJson(u));
      } catch (e) {
        if (!sendError(res, e, toField)) throw e;
      }
    }),
    route(
      'PUT',
      '/api/users/{email}/password',
      'Change a password: {current_password?, password}.',
      async (req, res, p) => {
        try {
          const email = decodeURIComponent(p.email!);
          const body = jsonObject(await readJson(req));
          const problems: FieldProblem[] = [];
          for (const k of Object.keys(body))
            if (k !== 'password' && k !== 'current_password')
              problems.push({ field: k, message: 'is not allowed here' });
          if (typeof body.password !== 'string')
            problems.push({ field: 'password', message: 'is required and must be a string' });
          if (body.current_password !== undefined && typeof body.current_password !== 'string')
            problems.push({ field: 'current_password', message: 'must be a string' });
          if (problems.length) throw badRequest(problems);
          const password = body.password as string;
          const current = body.current_password as string | undefined;
          const u =
            current === undefined
              ? await accounts.setPassword(ctx.actor(req), email, password)
              : await accounts.changePassword(ctx.actor(req), email, current, password);
          sendJson(res, 200, userJson(u));
        } catch (e) {
          if (!sendError(res, e)) throw e;
        }
      },
    ),
    route('DELETE', '/api/users/{email}', 'Delete a user with its mail.', (req, res, p) => {
      try {
        sendJson(res, 200, { deleted: accounts.deleteUser(ctx.actor(req), decodeURIComponent(p.email!)).email });
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route('GET', '/api/aliases', 'List aliases (?domain=).', (_req, res, _p, url) => {
      try {
        sendJson(res, 200, repos.aliases.list({ domainId: domainId(url), limit: 10_000 }).map(aliasJson));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route('POST', '/api/aliases', 'Create an alias: {address, destinations: [...]}.', async (req, res) => {
      try {
        const body = jsonObject(await readJson(req));
        const problems: FieldProblem[] = [];
        if (typeof body.address !== 'string')
          problems.push({ field: 'address', message: 'is required and must be a string' });
        const d = body.destinations;
        if (!Array.isArray(d) || d.some((x) => typeof x !== 'string'))
          problems.push({ field: 'destinations', message: 'is required and must be a list of addresses' });
        for (const k of Object.keys(body))
          if (k !== 'address' && k !== 'destinations') problems.push({ field: k, message: 'is not an alias field' });
        if (problems.length) throw badRequest(problems);
        sendJson(res, 201, aliasJson(accounts.createAlias(ctx.actor(req), body.address as string, d as string[])));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route('GET', '/api/aliases/{address}', 'Show an alias.', (_req, res, p) => {
      const a = repos.aliases.get(decodeURIComponent(p.address!));
      if (a) sendJson(res, 200, aliasJson(a));
      else sendJson(res, 404, { error: 'not_found', message: `alias "${decodeURIComponent(p.address!)}" not found` });
    }),
    route('DELETE', '/api/aliases/{address}', 'Delete an alias.', (req, res, p) => {
      try {
        sendJson(res, 200, { deleted: accounts.deleteAlias(ctx.actor(req), decodeURIComponent(p.address!)).address });
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
  ];
}
