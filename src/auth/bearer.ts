/**
 * Bearer-token authentication for the admin APIs (GraphQL and REST). Rules: a token is the config's admin token
 * (compared in constant time, as fixed-length digests) or an API token from the database (stored hashed);
 * the caller's actor name (for the audit log) and scopes come from the token.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Repos } from '../repos/index.ts';

export interface AuthInfo {
  actor: string;
  scopes: string[];
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export function verifyBearer(
  deps: { adminToken: string; repos: Pick<Repos, 'apiTokens'> },
  authorization: string | null | undefined,
): AuthInfo | { error: string } {
  if (!authorization) return { error: 'missing Authorization: Bearer <token> header' };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
  if (!m) return { error: 'the Authorization header must be "Bearer <token>"' };
  const token = m[1]!;
  if (timingSafeEqual(digest(token), digest(deps.adminToken))) return { actor: 'admin-token', scopes: ['admin'] };
  const row = deps.repos.apiTokens.verify(token);
  if (row) return { actor: `api-token:${row.name}`, scopes: row.scopes };
  return { error: 'invalid or expired token' };
}
