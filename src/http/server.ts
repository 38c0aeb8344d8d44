/**
 * The admin HTTP server on api.port: /health now; /graphql and /api/* mount here in their issues.
 * Rules: handlers are looked up by exact method + path or by prefix; unmatched requests get a JSON 404; a
 * handler that throws answers a JSON 500 (details are logged, not sent).
 */
import http from 'node:http';
import type { Logger } from '../log/logger.ts';
import { type Bindable, listenPromise } from '../net/listener.ts';

export type HttpHandler = (req: http.IncomingMessage, res: http.ServerResponse) => void | Promise<void>;

export interface Route {
  method?: string;
  path: string;
  prefix?: boolean;
  handler: HttpHandler;
}

export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

export function createHttpServer(routes: Route[], log: Logger): Bindable & { server: http.Server } {
  const server = http.createServer(async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes.find(
      (r) => (r.prefix ? path.startsWith(r.path) : path === r.path) && (!r.method || r.method === req.method),
    );
    if (!route) {
      const pathKnown = routes.some((r) => (r.prefix ? path.startsWith(r.path) : path === r.path));
      return sendJson(res, pathKnown ? 405 : 404, { error: pathKnown ? 'method not allowed' : 'not found' });
    }
    try {
      await route.handler(req, res);
    } catch (err) {
      log.error({ err, path }, 'http handler failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.destroy();
    }
  });
  server.keepAliveTimeout = 5000;
  return {
    server,
    listen: (port, address) => listenPromise(server, port, address),
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
