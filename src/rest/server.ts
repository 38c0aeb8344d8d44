/**
 * The gomailserver-compatible REST shim under /api/. Rules: every route needs an admin bearer token (401 JSON
 * otherwise); routes are matched by method and path pattern (405 when only the method is wrong); handlers call
 * the same services as GraphQL, so there is no second copy of business logic; /api/openapi.json describes it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyBearer } from '../auth/bearer.ts';
import type { Route } from '../http/server.ts';
import { sendJson } from '../http/server.ts';
import type { Services } from '../server/services.ts';
import { accountRoutes } from './accounts.ts';
import { dkimRoutes } from './dkim.ts';
import { domainRoutes } from './domains.ts';
import { openApiDocument } from './openapi.ts';
import { queueRoutes } from './queue.ts';
import { securityRoutes } from './security.ts';

export function createRest(services: Services): Route {
  const actors = new WeakMap<IncomingMessage, string>();
  const ctx = { services, actor: (req: IncomingMessage) => actors.get(req) ?? 'unknown' };
  const routes = [
    ...domainRoutes(ctx),
    ...dkimRoutes(ctx),
    ...accountRoutes(ctx),
    ...securityRoutes(ctx),
    ...queueRoutes(ctx),
  ];
  const openapi = openApiDocument(routes);

  return {
    path: '/api/',
    prefix: true,
    handler: async (req: IncomingMessage, res: ServerResponse) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname.replace(/\/+$/, '') || '/';
      if (path === '/api/openapi.json' && req.method === 'GET') return sendJson(res, 200, openapi);
      const auth = verifyBearer(services, req.headers.authorization);
      if ('error' in auth) {
        res.setHeader('WWW-Authenticate', 'Bearer realm="mailyard"');
        return sendJson(res, 401, { error: 'unauthorized', message: auth.error });
      }
      if (!auth.scopes.includes('admin'))
        return sendJson(res, 403, { error: 'forbidden', message: 'this token has no admin scope' });
      actors.set(req, auth.actor);
      let pathMatched = false;
      for (const r of routes) {
        const m = r.regex.exec(path);
        if (!m) continue;
        pathMatched = true;
        if (r.method !== req.method) continue;
        const params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
        return r.handler(req, res, params, url);
      }
      if (pathMatched)
        return sendJson(res, 405, {
          error: 'method_not_allowed',
          message: `${req.method} is not supported on ${path}`,
        });
      sendJson(res, 404, { error: 'not_found', message: `no endpoint ${path}` });
    },
  };
}
