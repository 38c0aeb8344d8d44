/**
 * /api/domains/{name}/dkim: DKIM key rotation over the rotation service (the same code path as GraphQL and the
 * CLI). GET lists the keys with the DNS records to publish; POST stages a key ({selector, key_type?, key_size?},
 * 201); POST .../{selector}/activate makes a staged key the active one; DELETE .../{selector} retires a staged or
 * retiring key. Rules: JSON field names are snake_case; errors are the shim's JSON errors (404 unknown domain or
 * selector, 409 selector in use, active key retired or a non-staged key activated, 400 naming each bad field);
 * an admin or the domain's administrators may call every route.
 */
import type { DkimKeyInfo } from '../dkim/rotation.ts';
import { sendJson } from '../http/server.ts';
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

/** A key as REST JSON. */
export const dkimKeyJson = (k: DkimKeyInfo) => ({
  selector: k.selector,
  status: k.status,
  key_type: k.keyType,
  key_size: k.keySize,
  dns_name: k.dnsName,
  dns_record: k.dnsRecord,
  created_at: k.createdAt === null ? null : new Date(k.createdAt).toISOString(),
});

const MANAGE: Access = { who: 'domain', target: 'path:name' };

const FIELD: Record<string, string> = { selector: 'selector', keyType: 'key_type', keySize: 'key_size' };
const toField = (p: (string | number)[]) => FIELD[String(p[0])] ?? p.join('.');

export function dkimRoutes(ctx: RestContext): RestRoute[] {
  const { dkim } = ctx.services;
  return [
    route(
      'GET',
      '/api/domains/{name}/dkim',
      'List the DKIM keys of a domain with their DNS records.',
      MANAGE,
      (_req, res, p) => {
        try {
          sendJson(res, 200, dkim.list(p.name!).map(dkimKeyJson));
        } catch (e) {
          if (!sendError(res, e, toField)) throw e;
        }
      },
    ),
    route(
      'POST',
      '/api/domains/{name}/dkim',
      'Stage a new DKIM key (published, not signing yet).',
      MANAGE,
      async (req, res, p) => {
        try {
          const body = jsonObject(await readJson(req));
          const problems: FieldProblem[] = [];
          if (typeof body.selector !== 'string')
            problems.push({ field: 'selector', message: 'is required and must be a string' });
          if (body.key_type !== undefined && body.key_type !== 'rsa' && body.key_type !== 'ed25519')
            problems.push({ field: 'key_type', message: 'must be rsa or ed25519' });
          if (body.key_size !== undefined && !Number.isInteger(body.key_size))
            problems.push({ field: 'key_size', message: 'must be a whole number' });
          for (const k of Object.keys(body))
            if (!['selector', 'key_type', 'key_size'].includes(k))
              problems.push({ field: k, message: 'is not a field of this request' });
          if (problems.length) throw badRequest(problems);
          const key = await dkim.stage(
            p.name!,
            {
              selector: body.selector as string,
              keyType: body.key_type as 'rsa' | 'ed25519' | undefined,
              keySize: body.key_size as number | undefined,
            },
            ctx.actor(req),
          );
          sendJson(res, 201, dkimKeyJson(key));
        } catch (e) {
          if (!sendError(res, e, toField)) throw e;
        }
      },
    ),
    route(
      'POST',
      '/api/domains/{name}/dkim/{selector}/activate',
      'Make a staged DKIM key the active one; the previous active key becomes retiring.',
      MANAGE,
      (req, res, p) => {
        try {
          sendJson(res, 200, dkimKeyJson(dkim.activate(p.name!, p.selector!, ctx.actor(req))));
        } catch (e) {
          if (!sendError(res, e, toField)) throw e;
        }
      },
    ),
    route(
      'DELETE',
      '/api/domains/{name}/dkim/{selector}',
      'Retire (delete) a staged or retiring DKIM key; the active key cannot be retired.',
      MANAGE,
      (req, res, p) => {
        try {
          sendJson(res, 200, dkimKeyJson(dkim.retire(p.name!, p.selector!, ctx.actor(req))));
        } catch (e) {
          if (!sendError(res, e, toField)) throw e;
        }
      },
    ),
  ];
}
