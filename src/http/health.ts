/**
 * GET /health (no auth): status, version, uptime, database state and each listener's state.
 * Rules: 200 while the database answers; 503 when it does not (a load balancer takes the node out).
 */
import type { Route } from './server.ts';
import { sendJson } from './server.ts';

export interface HealthSource {
  version: string;
  startedAt: number;
  database(): { status: 'ok' | 'error'; journal_mode?: string; error?: string };
  listeners(): Record<string, { port: number; address: string; state: string; error?: string }>;
  tls(): { source: string; valid_to: string };
}

export function healthReport(src: HealthSource) {
  const database = src.database();
  const listeners = src.listeners();
  const listenerTrouble = Object.values(listeners).some((l) => l.state === 'failed');
  const status = database.status !== 'ok' ? 'unavailable' : listenerTrouble ? 'degraded' : 'ok';
  return {
    status,
    version: src.version,
    uptime_seconds: Math.round((Date.now() - src.startedAt) / 1000),
    database,
    listeners,
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
