/**
 * GET /health (no auth): status, version, uptime, database state, each listener's state and the GraphQL API's.
 * Rules: 200 while the database answers; 503 when it does not (a load balancer takes the node out); "degraded"
 * when a listener failed or the GraphQL API could not load. GraphQL "loading" right after start is not trouble:
 * /graphql requests then wait for it (see graphql/endpoint.ts).
 */
import type { Route } from './server.ts';
import { sendJson } from './server.ts';

export interface HealthSource {
  version: string;
  startedAt: number;
  database(): { status: 'ok' | 'error'; journal_mode?: string; error?: string };
  listeners(): Record<string, { port: number; address: string; state: string; error?: string }>;
  tls(): { source: string; valid_to: string };
  graphql(): 'loading' | 'ready' | 'failed';
}

export function healthReport(src: HealthSource) {
  const database = src.database();
  const listeners = src.listeners();
  const graphql = src.graphql();
  const listenerTrouble = Object.values(listeners).some((l) => l.state === 'failed') || graphql === 'failed';
  const status = database.status !== 'ok' ? 'unavailable' : listenerTrouble ? 'degraded' : 'ok';
  return {
    status,
    version: src.version,
    uptime_seconds: Math.round((Date.now() - src.startedAt) / 1000),
    database,
    listeners,
    graphql,
    tls: src.tls(),
  };
}

export function healthRoute(src: HealthSource): Route {
  return {
    method: 'GET',
    path: '/health',
    handler: (_req, res) => {
      const report = healthReport(src);
      sendJson(res, report.status === 'unavailable' ? 503 : 200, report);
    },
  };
}
