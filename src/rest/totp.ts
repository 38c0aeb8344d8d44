/**
 * /api/users/{email}/totp: a user's TOTP second factor over the TOTP service (the same code path as GraphQL's
 * enrolTotp, confirmTotp, disableTotp). GET shows {enabled, pending, recovery_codes_left}; POST enrols (a new
 * pending secret, its otpauth:// URI and an SVG QR code, 201); POST .../confirm {code} turns TOTP on and answers
 * the 10 recovery codes; DELETE {code} turns it off. Rules: the secret and the recovery codes are answered once;
 * a wrong code is 403 authentication_failed and changes nothing; enrolling while TOTP is on is a 409; the user
 * and whoever manages it may call these, and a session that must still enrol may enrol and confirm for itself
 * (access.ts); disabling needs a code (or a recovery code) except from one who manages the user (admin, domain
 * administrator) acting on another's account, which is the way back for a user who lost the device.
 */
import type { TotpStatus } from '../accounts/totp.ts';
import { canManageUser } from '../auth/principal.ts';
import { sendJson } from '../http/server.ts';
import { userJson } from './accounts.ts';
import type { RestContext } from './context.ts';
import {
  type Access,
  badRequest,
  type FieldProblem,
  jsonObject,
  type RestRoute,
  readJson,
  readOptionalJson,
  route,
  sendError,
} from './http.ts';

const SELF: Access = { who: 'user', target: 'path:email' };
const ENROL: Access = { who: 'user', target: 'path:email', totpSetup: true };

const statusJson = (s: TotpStatus) => ({
  enabled: s.enabled,
  pending: s.pending,
  recovery_codes_left: s.recoveryCodesLeft,
});

/** {code} (required or not), nothing else; returns the code. */
function codeOf(body: unknown, required: boolean): string | undefined {
  if (body === undefined && !required) return undefined;
  const obj = body === undefined ? {} : jsonObject(body);
  const problems: FieldProblem[] = [];
  if (obj.code === undefined ? required : typeof obj.code !== 'string')
    problems.push({ field: 'code', message: required ? 'is required and must be a string' : 'must be a string' });
  for (const k of Object.keys(obj)) if (k !== 'code') problems.push({ field: k, message: 'is not allowed here' });
  if (problems.length) throw badRequest(problems);
  return obj.code as string | undefined;
}

export function totpRoutes(ctx: RestContext): RestRoute[] {
  const { repos, totp } = ctx.services;
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
      '/api/users/{email}/totp',
      'Whether TOTP is on or waits for confirmation, and how many recovery codes are left.',
      SELF,
      handle((_req, res, p) => sendJson(res, 200, statusJson(totp.status(p.email!)))),
    ),
    route(
      'POST',
      '/api/users/{email}/totp',
      'Start TOTP enrolment: a new secret (pending until confirmed), its otpauth:// URI and QR code. No body.',
      ENROL,
      handle(async (req, res, p) => {
        const e = await totp.enrol(ctx.actor(req), p.email!);
        sendJson(res, 201, { secret: e.secret, uri: e.uri, qr_svg_data_url: e.qrSvgDataUrl });
      }),
    ),
    route(
      'POST',
      '/api/users/{email}/totp/confirm',
      'Turn TOTP on with a valid code for the pending secret: {code}; answers the recovery codes, once.',
      ENROL,
      handle(async (req, res, p) => {
        const code = codeOf(await readJson(req), true)!;
        const { recoveryCodes } = await totp.confirm(ctx.actor(req), p.email!, code);
        sendJson(res, 200, { recovery_codes: recoveryCodes, user: userJson(repos.users.require(p.email!)) });
      }),
    ),
    route(
      'DELETE',
      '/api/users/{email}/totp',
      "Turn TOTP off: {code} (a current or recovery code); one who manages the user may omit it for another's account.",
      SELF,
      handle(async (req, res, p) => {
        const caller = ctx.principal(req);
        const email = p.email!;
        const self = caller.user?.email === email.trim().toLowerCase();
        const code = codeOf(await readOptionalJson(req), self || !canManageUser(caller, email));
        const u = await totp.disable(ctx.actor(req), email, code ?? { admin: true });
        sendJson(res, 200, userJson(u));
      }),
    ),
  ];
}
