/**
 * The per-operation GraphQL context. Rules: every operation is authenticated (auth/bearer.ts); no or a wrong
 * token is an UNAUTHENTICATED error with HTTP 401; the actor recorded in the audit log comes from the token.
 */
import { GraphQLError } from 'graphql';
import { type AuthInfo, verifyBearer } from '../auth/bearer.ts';
import type { Services } from '../server/services.ts';

export type { AuthInfo };

export interface GraphQLContext extends Services {
  auth: AuthInfo;
}

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
