/**
 * API tokens. Rules: only the SHA-256 hash of a token is stored; the clear token is returned once, on creation;
 * a revoked or expired token never verifies. Lookup is by hash (an index lookup on a digest, so its timing tells
 * nothing about the token).
 */
import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { type ApiTokenRow, apiTokens } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

export function createApiTokensRepo(db: Db) {
  return {
    create(name: string, scopes: string[] = ['admin'], expiresAt?: number): { token: string; row: ApiTokenRow } {
      const token = `my_${randomBytes(24).toString('base64url')}`;
      const row = db
        .insert(apiTokens)
        .values({ name, scopes, token_hash: hashToken(token), expires_at: expiresAt ?? null })
        .returning()
        .get();
      return { token, row };
    },
    verify(token: string): ApiTokenRow | undefined {
      const row = db
        .select()
        .from(apiTokens)
        .where(eq(apiTokens.token_hash, hashToken(token)))
        .get();
      if (!row || row.revoked_at || (row.expires_at && row.expires_at < Date.now())) return undefined;
      return row;
    },
    revoke(id: number): boolean {
      return db.update(apiTokens).set({ revoked_at: Date.now() }).where(eq(apiTokens.id, id)).run().changes > 0;
    },
  };
}
