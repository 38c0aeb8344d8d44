/**
 * App passwords: extra, named, per-protocol passwords of a user (for mail clients when the account password alone
 * is not accepted, e.g. with TOTP). Rules: only the scrypt hash is stored (the service hashes); rows are listed
 * without it except through forLogin(); a user holds at most MAX_APP_PASSWORDS (enforced in the create
 * transaction, so a login verifies a small, bounded set); writes commit, then publish `appPassword.changed`.
 */
import { and, asc, count, eq } from 'drizzle-orm';
import { type AppPasswordRow, type AppPasswordScope, appPasswords, users } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { ConflictError, NotFoundError } from './errors.ts';

/** Most app passwords a user may hold. */
export const MAX_APP_PASSWORDS = 10;

export type AppPasswordInfo = Omit<AppPasswordRow, 'password_hash'>;

const info = ({ password_hash: _h, ...rest }: AppPasswordRow): AppPasswordInfo => rest;

export function createAppPasswordsRepo(db: Db, bus: EventBus) {
  const userOf = (userId: number) => db.select({ email: users.email }).from(users).where(eq(users.id, userId)).get();
  return {
    create(userId: number, name: string, scopes: AppPasswordScope[], passwordHash: string): AppPasswordInfo {
      const row = db.transaction((tx) => {
        const n = tx.select({ n: count() }).from(appPasswords).where(eq(appPasswords.user_id, userId)).get()?.n ?? 0;
        if (n >= MAX_APP_PASSWORDS)
          throw new ConflictError(`a user may have at most ${MAX_APP_PASSWORDS} app passwords; revoke one first`);
        return tx
          .insert(appPasswords)
          .values({ user_id: userId, name, scopes, password_hash: passwordHash })
          .returning()
          .get();
      });
      const email = userOf(userId)?.email ?? '';
      bus.publish('appPassword.changed', { email, id: row.id, action: 'created' });
      return info(row);
    },

    list(userId: number): AppPasswordInfo[] {
      return db
        .select()
        .from(appPasswords)
        .where(eq(appPasswords.user_id, userId))
        .orderBy(asc(appPasswords.id))
        .all()
        .map(info);
    },

    /** The rows a login verifies against (with their hashes): at most MAX_APP_PASSWORDS. */
    forLogin(userId: number): AppPasswordRow[] {
      return db
        .select()
        .from(appPasswords)
        .where(eq(appPasswords.user_id, userId))
        .orderBy(asc(appPasswords.id))
        .limit(MAX_APP_PASSWORDS)
        .all();
    },

    /** Records a successful login with it (no event: usage, not configuration). */
    markUsed(id: number, ip: string, at = Date.now()): void {
      db.update(appPasswords).set({ last_used_at: at, last_used_ip: ip }).where(eq(appPasswords.id, id)).run();
    },

    /** Deletes it; NotFoundError if the user has no app password with this id. */
    revoke(userId: number, id: number): AppPasswordInfo {
      const row = db
        .delete(appPasswords)
        .where(and(eq(appPasswords.id, id), eq(appPasswords.user_id, userId)))
        .returning()
        .get();
      if (!row) throw new NotFoundError('app password', String(id));
      bus.publish('appPassword.changed', { email: userOf(userId)?.email ?? '', id, action: 'deleted' });
      return info(row);
    },
  };
}

export type AppPasswordsRepo = ReturnType<typeof createAppPasswordsRepo>;
