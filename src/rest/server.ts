/**
 * The gomailserver-compatible REST shim under /api/. Rules: every route declares who may call it (http.ts
 * `Access`) and access.ts checks that declaration against the caller's principal before the handler runs (403
 * `forbidden` JSON otherwise); every route but the public ones (login) needs a valid bearer token (401 JSON
 * otherwise, also for unknown paths); routes are matched by method and path pattern (405 when only the method is
 * wrong); handlers call the same services as GraphQL, so there is no second copy of business logic, and audit
 * with the principal's actor; /api/openapi.json describes every route with its access declaration.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifyBearer } from '../auth/bearer.ts';
import type { Principal } from '../auth/principal.ts';
import type { Route } from '../http/server.ts';
import { sendJson } from '../http/server.ts';
import type { Services } from '../server/services.ts';
import { authorize } from './access.ts';
import { accountRoutes } from './accounts.ts';
import { dkimRoutes } from './dkim.ts';
import { domainRoutes } from './domains.ts';
import { sendError } from './http.ts';
import { openApiDocument } from './openapi.ts';
import { queueRoutes } from './queue.ts';
import { securityRoutes } from './security.ts';
import { sessionRoutes } from './sessions.ts';
import { totpRoutes } from './totp.ts';

export function createRest(services: Services): Route {
  const principals = new WeakMap<IncomingMessage, Principal>();
  const principal = (req: IncomingMessage) => {
    const p = principals.get(req);
    if (!p) throw new Error('no caller for this request (a public route asked for one)');
    return p;
  };
  const ctx = { services, principal, actor: (req: IncomingMessage) => principal(req).actor };
  const routes = [
    ...sessionRoutes(ctx),
    ...domainRoutes(ctx),
    ...dkimRoutes(ctx),
    ...accountRoutes(ctx),
    ...totpRoutes(ctx),
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
      let pathMatched = false;
      let found: { r: (typeof routes)[number]; m: RegExpExecArray } | undefined;
      for (const r of routes) {
        const m = r.regex.exec(path);
        if (!m) continue;
        pathMatched = true;
        if (r.method !== req.method) continue;
        found = { r, m };
        break;
      }
      if (found?.r.access.who !== 'public') {
        const auth = verifyBearer(services, req.headers.authorization);
        if ('error' in auth) {
          res.setHeader('WWW-Authenticate', 'Bearer realm="mailyard"');
          return sendJson(res, 401, { error: 'unauthorized', message: auth.error });
        }
        principals.set(req, auth);
      }
      if (!found) {
        if (pathMatched)
          return sendJson(res, 405, {
            error: 'method_not_allowed',
            message: `${req.method} is not supported on ${path}`,
          });
        return sendJson(res, 404, { error: 'not_found', message: `no endpoint ${path}` });
      }
      const { r, m } = found;
      let params: Record<string, string>;
      try {
        params = Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
      } catch {
        return sendJson(res, 400, { error: 'validation_failed', message: 'the path is not valid percent-encoding' });
      }
      try {
        if (r.access.who !== 'public') await authorize(services.repos, principal(req), r.access, req, params, url);
      } catch (e) {
        if (!sendError(res, e)) throw e;
        return;
      }
      return r.handler(req, res, params, url);
    },
  };
}
