/**
 * API tokens. Rules: only the SHA-256 hash of a token is stored; the clear token is returned once, on creation;
 * a revoked or expired token never verifies. Lookup is by hash (an index lookup on a digest, so its timing tells
 * nothing about the token). Scopes are stored as given (auth/principal.ts parses and checks them);
 * last_used_at is written at most once a minute per token.
 */
import { createHash, randomBytes } from 'node:crypto';
import { and, desc, eq, isNull } from 'drizzle-orm';
import { type ApiTokenRow, apiTokens } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';

export const hashToken = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');

/** API tokens start with this (session tokens with `mys_`). */
export const API_TOKEN_PREFIX = 'my_';
const TOUCH_EVERY_MS = 60_000;

export function createApiTokensRepo(db: Db) {
  return {
    create(
      name: string,
      scopes: string[] = ['admin'],
      expiresAt?: number | null,
      createdBy?: string,
    ): { token: string; row: ApiTokenRow } {
      const token = `${API_TOKEN_PREFIX}${randomBytes(24).toString('base64url')}`;
      const row = db
        .insert(apiTokens)
        .values({
          name,
          scopes,
          token_hash: hashToken(token),
          expires_at: expiresAt ?? null,
          created_by: createdBy ?? null,
        })
        .returning()
        .get();
      return { token, row };
    },
    verify(token: string, now = Date.now()): ApiTokenRow | undefined {
      const row = db
        .select()
        .from(apiTokens)
        .where(eq(apiTokens.token_hash, hashToken(token)))
        .get();
      if (!row || row.revoked_at || (row.expires_at && row.expires_at <= now)) return undefined;
      if (row.last_used_at === null || now - row.last_used_at >= TOUCH_EVERY_MS) {
        db.update(apiTokens).set({ last_used_at: now }).where(eq(apiTokens.id, row.id)).run();
        row.last_used_at = now;
      }
      return row;
    },
    get(id: number): ApiTokenRow | undefined {
      return db.select().from(apiTokens).where(eq(apiTokens.id, id)).get();
    },
    /** Tokens not revoked (expired ones included, marked by expires_at), newest first. */
    list(): ApiTokenRow[] {
      return db.select().from(apiTokens).where(isNull(apiTokens.revoked_at)).orderBy(desc(apiTokens.id)).all();
    },
    revoke(id: number, now = Date.now()): boolean {
      return (
        db
          .update(apiTokens)
          .set({ revoked_at: now })
          .where(and(eq(apiTokens.id, id), isNull(apiTokens.revoked_at)))
          .run().changes > 0
      );
    },
  };
}
