/**
 * The per-operation GraphQL context and bearer-token authentication. Rules: a token is the config's admin token
 * (compared in constant time) or an API token from the database (stored hashed); no or a wrong token is an
 * UNAUTHENTICATED error with HTTP 401; the actor recorded in the audit log is derived from the token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { AccountService } from '../accounts/service.ts';
import type { Config } from '../config/load.ts';
import type { DomainService } from '../domains/service.ts';
import type { EventBus } from '../events/bus.ts';
import type { Repos } from '../repos/index.ts';

export interface AuthInfo {
  actor: string;
  scopes: string[];
}

export interface Services {
  repos: Repos;
  bus: EventBus;
  domains: DomainService;
  accounts: AccountService;
  config: Config;
  adminToken: string;
}

export interface GraphQLContext extends Services {
  auth: AuthInfo;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="mailyard"' } },
    },
  });
}

/** Resolves an Authorization header value ("Bearer <token>") to the caller, or throws UNAUTHENTICATED. */
export function authenticate(services: Services, authorization: string | null | undefined): AuthInfo {
  if (!authorization) throw unauthenticated('missing Authorization: Bearer <token> header');
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) throw unauthenticated('the Authorization header must be "Bearer <token>"');
  const token = m[1]!;
  if (timingSafeEqual(digest(token), digest(services.adminToken))) return { actor: 'admin-token', scopes: ['admin'] };
  const row = services.repos.apiTokens.verify(token);
  if (row) return { actor: `api-token:${row.name}`, scopes: row.scopes };
  throw unauthenticated('invalid or expired token');
}
