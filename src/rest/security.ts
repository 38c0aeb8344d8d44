/**
 * /api/users/{email}/app-passwords and /api/blocked-ips over the same services as GraphQL
 * (accounts/appPasswords.ts, auth/ipAccess.ts). App passwords: GET list (never the secret), POST {name, scopes}
 * (201 with `password`, shown once), DELETE /{id}. Blocked IPs: GET list of live entries, POST {ip, minutes?,
 * reason?, kind?: "block" | "allow"} (minutes omitted or null = permanent), DELETE /{ip} (an IP, or
 * `account:<address>`). Rules: a user manages its own app passwords, and an admin or the user's domain
 * administrators manage them too; the blocked-IP list is admin-only; errors as rest/http.ts.
 */
import { sendJson } from '../http/server.ts';
import type { AppPasswordInfo } from '../repos/appPasswords.ts';
import type { BlockedIpRow } from '../repos/rows.ts';
import type { RestContext } from './context.ts';
import {
  type Access,
  badRequest,
  type FieldProblem,
  jsonObject,
  type RestRoute,
  readJson,
  route,
  sendError,
} from './http.ts';

const appPasswordJson = (a: AppPasswordInfo) => ({
  id: a.id,
  name: a.name,
  scopes: a.scopes,
  created_at: a.created_at,
  last_used_at: a.last_used_at,
  last_used_ip: a.last_used_ip,
});

const blockJson = (b: BlockedIpRow) => ({
  ip: b.ip,
  kind: b.kind,
  reason: b.reason,
  blocked_until: b.blocked_until,
  created_at: b.created_at,
});

const SELF: Access = { who: 'user', target: 'path:email' };
const ADMIN: Access = { who: 'admin' };

export function securityRoutes(ctx: RestContext): RestRoute[] {
  const { appPasswords, ipAccess } = ctx.services;
  const handle =
    (fn: (...a: Parameters<RestRoute['handler']>) => unknown): RestRoute['handler'] =>
    async (req, res, p, url) => {
      try {
        await fn(req, res, p, url);
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    };
  return [
    route(
      'GET',
      '/api/users/{email}/app-passwords',
      "List a user's app passwords (never their secrets).",
      SELF,
      handle((_req, res, p) => sendJson(res, 200, appPasswords.list(p.email!).map(appPasswordJson))),
    ),
    route(
      'POST',
      '/api/users/{email}/app-passwords',
      'Create an app password: {name, scopes: ["imap", "smtp"]}; the answer carries `password` once.',
      SELF,
      handle(async (req, res, p) => {
        const body = jsonObject(await readJson(req));
        const problems: FieldProblem[] = [];
        if (typeof body.name !== 'string')
          problems.push({ field: 'name', message: 'is required and must be a string' });
        const scopes = body.scopes;
        if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))
          problems.push({ field: 'scopes', message: 'is required and must be a list of "imap", "smtp"' });
        for (const k of Object.keys(body))
          if (k !== 'name' && k !== 'scopes') problems.push({ field: k, message: 'is not an app password field' });
        if (problems.length) throw badRequest(problems);
        const created = await appPasswords.create(ctx.actor(req), p.email!, body.name as string, scopes as string[]);
        sendJson(res, 201, { ...appPasswordJson(created), password: created.password });
      }),
    ),
    route(
      'DELETE',
      '/api/users/{email}/app-passwords/{id}',
      'Revoke an app password (the next login with it fails).',
      SELF,
      handle((req, res, p) => {
        const id = Number(p.id);
        if (!Number.isSafeInteger(id)) throw badRequest([{ field: 'id', message: 'must be a number' }]);
        sendJson(res, 200, { deleted: appPasswordJson(appPasswords.revoke(ctx.actor(req), p.email!, id)).id });
      }),
    ),
    route(
      'GET',
      '/api/blocked-ips',
      'List live login blocks and allow-list entries.',
      ADMIN,
      handle((_req, res) => sendJson(res, 200, ipAccess.list().map(blockJson))),
    ),
    route(
      'POST',
      '/api/blocked-ips',
      'Block an IP {ip, minutes?, reason?} (no minutes = permanent), or allow-list it with kind: "allow".',
      ADMIN,
      handle(async (req, res) => {
        const body = jsonObject(await readJson(req));
        const problems: FieldProblem[] = [];
        if (typeof body.ip !== 'string') problems.push({ field: 'ip', message: 'is required and must be a string' });
        if (body.minutes !== undefined && body.minutes !== null && typeof body.minutes !== 'number')
          problems.push({ field: 'minutes', message: 'must be a number of minutes, or null for permanent' });
        if (body.reason !== undefined && typeof body.reason !== 'string')
          problems.push({ field: 'reason', message: 'must be a string' });
        if (body.kind !== undefined && body.kind !== 'block' && body.kind !== 'allow')
          problems.push({ field: 'kind', message: 'must be "block" or "allow"' });
        for (const k of Object.keys(body))
          if (!['ip', 'minutes', 'reason', 'kind'].includes(k)) problems.push({ field: k, message: 'is not a field' });
        if (problems.length) throw badRequest(problems);
        const reason = (body.reason as string | undefined) ?? '';
        const row =
          body.kind === 'allow'
            ? ipAccess.allow(ctx.actor(req), body.ip as string, reason)
            : ipAccess.block(
                ctx.actor(req),
                body.ip as string,
                (body.minutes as number | null | undefined) ?? null,
                reason,
              );
        sendJson(res, 201, blockJson(row));
      }),
    ),
    route(
      'DELETE',
      '/api/blocked-ips/{ip}',
      'Lift a block or allow-list entry (an IP, or account:<address>).',
      ADMIN,
      handle((req, res, p) => sendJson(res, 200, { deleted: ipAccess.unblock(ctx.actor(req), p.ip!).ip })),
    ),
  ];
}
