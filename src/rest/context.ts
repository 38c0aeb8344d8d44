// What REST handlers need: the shared services and the caller (from the bearer token): its principal, for the
// handler's own checks and listings, and its actor name for the audit log.
import type { IncomingMessage } from 'node:http';
import type { Principal } from '../auth/principal.ts';
import type { Services } from '../server/services.ts';

export interface RestContext {
  services: Services;
  /** The caller; a public route's handler must not ask (it throws there). */
  principal(req: IncomingMessage): Principal;
  actor(req: IncomingMessage): string;
}
