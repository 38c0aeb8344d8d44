// What REST handlers need: the shared services and the caller (from the bearer token) for the audit log.
import type { IncomingMessage } from 'node:http';
import type { Services } from '../server/services.ts';

export interface RestContext {
  services: Services;
  actor(req: IncomingMessage): string;
}
