/**
 * /api/domains: gomailserver's domain endpoints over the domain service (the same code path as GraphQL).
 * POST creates (from the template or with a `domain` object of column values), GET lists or shows one, PUT
 * updates flat columns, DELETE removes (?force=true with users), and /security reads or deep-merges sections.
 * Access: creating, deleting and the flat PUT (status, limits, quotas: what an operator grants a domain) are
 * admin-only; a domain administrator reads its domains (the list shows only those) and changes their security
 * sections; `_default` is the admin's only (access.ts).
 */

import { visibleDomains } from '../auth/principal.ts';
import { DEFAULT_SETTINGS } from '../domains/settings.ts';
import { sendJson } from '../http/server.ts';
import { TEMPLATE_DOMAIN } from '../repos/names.ts';
import type { RestContext } from './context.ts';
import {
  ensureValid,
  flatDomain,
  flatField,
  flatToPatch,
  securityField,
  securityJson,
  securityToPatch,
} from './domainJson.ts';
import { type Access, badRequest, jsonObject, type RestRoute, readJson, route, sendError } from './http.ts';

const ADMIN: Access = { who: 'admin' };
const MANAGE: Access = { who: 'domain', target: 'path:name' };

export function domainRoutes(ctx: RestContext): RestRoute[] {
  const { repos, domains } = ctx.services;
  return [
    route(
      'GET',
      '/api/domains',
      'List domains (flat JSON, the _default template excluded).',
      { who: 'domain' },
      (req, res, _p, url) => {
        const limit = Math.min(Number(url.searchParams.get('limit') ?? 1000) || 1000, 10_000);
        const visible = visibleDomains(ctx.principal(req));
        if (visible !== null) {
          const own = [...visible].flatMap((name) => repos.domains.get(name) ?? []);
          return sendJson(res, 200, own.slice(0, limit).map(flatDomain));
        }
        const all = [];
        for (let after = 0; ; ) {
          const page = repos.domains.list({ after, limit: Math.min(500, limit - all.length) });
          all.push(...page);
          if (page.length === 0 || all.length >= limit) break;
          after = page[page.length - 1]!.id;
        }
        sendJson(res, 200, all.map(flatDomain));
      },
    ),
    route(
      'POST',
      '/api/domains',
      'Create a domain from the template or with column values.',
      ADMIN,
      async (req, res) => {
        try {
          const body = jsonObject(await readJson(req));
          const problems = [];
          if (typeof body.name !== 'string')
            problems.push({ field: 'name', message: 'is required and must be a string' });
          const tpl = body.use_default_template ?? true;
          if (typeof tpl !== 'boolean')
            problems.push({ field: 'use_default_template', message: 'must be true or false' });
          for (const k of Object.keys(body))
            if (!['name', 'use_default_template', 'domain'].includes(k))
              problems.push({ field: k, message: 'is not a field of this request' });
          const mapped = body.domain === undefined ? { patch: {}, problems: [] } : flatToPatch(body.domain, 'domain.');
          mapped.problems.unshift(...problems);
          const base = tpl === true ? repos.domains.template() : DEFAULT_SETTINGS;
          const patch = ensureValid(mapped, base, flatField('domain.'));
          const row = await domains.create(ctx.actor(req), body.name as string, tpl as boolean, patch);
          sendJson(res, 201, flatDomain(row));
        } catch (e) {
          if (!sendError(res, e, flatField('domain.'))) throw e;
        }
      },
    ),
    route(
      'GET',
      '/api/domains/{name}',
      'Show a domain (or _default) as flat JSON, incl. dkim_public_key.',
      MANAGE,
      (_req, res, p) => {
        try {
          sendJson(res, 200, flatDomain(repos.domains.require(p.name!)));
        } catch (e) {
          if (!sendError(res, e)) throw e;
        }
      },
    ),
    route(
      'PUT',
      '/api/domains/{name}',
      'Update flat column values; omitted columns keep their values.',
      ADMIN,
      async (req, res, p) => {
        try {
          const body = await readJson(req);
          const current = repos.domains.require(p.name!);
          const patch = ensureValid(flatToPatch(body), current, flatField());
          sendJson(res, 200, flatDomain(await domains.update(ctx.actor(req), current.name, patch)));
        } catch (e) {
          if (!sendError(res, e, flatField())) throw e;
        }
      },
    ),
    route(
      'DELETE',
      '/api/domains/{name}',
      'Delete a domain; refused while it has users unless ?force=true.',
      ADMIN,
      (req, res, p, url) => {
        try {
          if (repos.domains.get(p.name!)?.name === TEMPLATE_DOMAIN)
            throw badRequest([{ field: 'name', message: 'the _default template cannot be deleted' }]);
          const row = domains.delete(ctx.actor(req), p.name!, url.searchParams.get('force') === 'true');
          sendJson(res, 200, { deleted: row.name });
        } catch (e) {
          if (!sendError(res, e)) throw e;
        }
      },
    ),
    route('GET', '/api/domains/{name}/security', 'Show the security sections of a domain.', MANAGE, (_req, res, p) => {
      try {
        sendJson(res, 200, securityJson(repos.domains.require(p.name!)));
      } catch (e) {
        if (!sendError(res, e)) throw e;
      }
    }),
    route(
      'PUT',
      '/api/domains/{name}/security',
      'Deep-merge partial security sections.',
      MANAGE,
      async (req, res, p) => {
        try {
          const body = await readJson(req);
          const current = repos.domains.require(p.name!);
          const patch = ensureValid(securityToPatch(body), current, securityField);
          const row = await domains.update(ctx.actor(req), current.name, patch);
          sendJson(res, 200, securityJson(row));
        } catch (e) {
          if (!sendError(res, e, securityField)) throw e;
        }
      },
    ),
  ];
}
