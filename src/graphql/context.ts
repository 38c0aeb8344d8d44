/**
 * The per-operation GraphQL context. Rules: every operation is authenticated (auth/bearer.ts); no or a wrong
 * token is an UNAUTHENTICATED error with HTTP 401, except an HTTP request whose operation is nothing but `login`,
 * which runs as ANONYMOUS (no scope: access.ts lets it call only public fields); the actor recorded in the audit
 * log comes from the token; `client` is the HTTP peer (the brute-force guard counts login failures by its IP).
 */
import { GraphQLError } from 'graphql';
import { type AuthInfo, verifyBearer } from '../auth/bearer.ts';
import { unmapIpv4 } from '../net/networks.ts';
import type { Services } from '../server/services.ts';

export type { AuthInfo };

export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

export interface GraphQLContext extends Services {
  auth: AuthInfo;
  client: ClientInfo;
}

/** The caller of an unauthenticated `login` request: no scope, no user. */
export const ANONYMOUS: AuthInfo = Object.freeze({
  actor: 'anonymous',
  via: 'anonymous',
  admin: false,
  domains: new Set<string>(),
  user: null,
  totpSetupRequired: false,
  tokenId: null,
  sessionId: null,
  scopes: [],
});

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, {
    extensions: {
      code: 'UNAUTHENTICATED',
      http: { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="mailyard"' } },
    },
  });
}

/** Resolves an Authorization header value to the caller, or throws UNAUTHENTICATED (HTTP 401). */
export function authenticate(services: Services, authorization: string | null | undefined): AuthInfo {
  const r = verifyBearer(services, authorization);
  if ('error' in r) throw unauthenticated(r.error);
  return r;
}

/** The peer of an HTTP request or WebSocket upgrade. */
export function clientOf(req: { socket?: { remoteAddress?: string }; headers: Record<string, unknown> } | undefined) {
  const ua = req?.headers['user-agent'];
  return {
    ip: unmapIpv4(req?.socket?.remoteAddress ?? 'unknown'),
    userAgent: typeof ua === 'string' ? ua : null,
  } satisfies ClientInfo;
}
