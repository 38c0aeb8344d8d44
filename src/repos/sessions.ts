/**
 * Login sessions of the API (GraphQL `login`). Rules: only the SHA-256 hash of a session token is stored; the
 * clear token is returned once; a revoked or expired session never verifies; last_used_at is written at most
 * once a minute per session (reads stay reads); cleanup() deletes sessions that expired or were revoked.
 */
import { randomBytes } from 'node:crypto';
import { and, desc, eq, isNull, lt, or } from 'drizzle-orm';
import { type SessionRow, sessions } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import { hashToken } from './apiTokens.ts';

/** Session tokens start with this, API tokens with `my_`: the bearer check knows which table to look in. */
export const SESSION_PREFIX = 'mys_';
const TOUCH_EVERY_MS = 60_000;

export function createSessionsRepo(db: Db) {
  return {
    create(
      userId: number,
      expiresAt: number,
      meta: { ip?: string | null; userAgent?: string | null } = {},
    ): { token: string; row: SessionRow } {
      const token = `${SESSION_PREFIX}${randomBytes(32).toString('base64url')}`;
      const row = db
        .insert(sessions)
        .values({
          user_id: userId,
          token_hash: hashToken(token),
          expires_at: expiresAt,
          created_ip: meta.ip ?? null,
          user_agent: meta.userAgent?.slice(0, 200) ?? null,
        })
        .returning()
        .get();
      return { token, row };
    },

    /** The live session of a token (not revoked, not expired at `now`), touched; undefined otherwise. */
    verify(token: string, now = Date.now()): SessionRow | undefined {
      const row = db
        .select()
        .from(sessions)
        .where(eq(sessions.token_hash, hashToken(token)))
        .get();
      if (!row || row.revoked_at !== null || row.expires_at <= now) return undefined;
      if (row.last_used_at === null || now - row.last_used_at >= TOUCH_EVERY_MS) {
        db.update(sessions).set({ last_used_at: now }).where(eq(sessions.id, row.id)).run();
        row.last_used_at = now;
      }
      return row;
    },

    get(id: number): SessionRow | undefined {
      return db.select().from(sessions).where(eq(sessions.id, id)).get();
    },

    /** A user's live sessions, newest first. */
    listForUser(userId: number, now = Date.now()): SessionRow[] {
      return db
        .select()
        .from(sessions)
        .where(and(eq(sessions.user_id, userId), isNull(sessions.revoked_at)))
        .orderBy(desc(sessions.id))
        .all()
        .filter((r) => r.expires_at > now);
    },

    revoke(id: number, now = Date.now()): boolean {
      return (
        db
          .update(sessions)
          .set({ revoked_at: now })
          .where(and(eq(sessions.id, id), isNull(sessions.revoked_at)))
          .run().changes > 0
      );
    },

    /** Ends every live session of a user (password changed, user disabled); returns how many. */
    revokeAllForUser(userId: number, now = Date.now()): number {
      return db
        .update(sessions)
        .set({ revoked_at: now })
        .where(and(eq(sessions.user_id, userId), isNull(sessions.revoked_at)))
        .run().changes;
    },

    /** Deletes sessions that expired or were revoked before `now`; returns how many. */
    cleanup(now = Date.now()): number {
      return db
        .delete(sessions)
        .where(or(lt(sessions.expires_at, now), lt(sessions.revoked_at, now)))
        .run().changes;
    },
  };
}

export type SessionsRepo = ReturnType<typeof createSessionsRepo>;
