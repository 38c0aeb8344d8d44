/**
 * TOTP state of users: the pending and active (encrypted) secrets, the last accepted time step and the hashed
 * recovery codes. Rules: this repository stores what it is given (encryption and hashing happen in
 * auth/totp.ts); activating replaces any previous recovery codes in the same transaction; accepting a time step
 * is one conditional update, so of two concurrent logins with the same code only one succeeds; spending a
 * recovery code likewise; writes commit, then publish `user.changed` with the field `totp` (which also clears
 * the users repository's account cache).
 */
import { and, asc, eq, isNull, lt, or } from 'drizzle-orm';
import { type RecoveryCodeRow, recoveryCodes, users } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import type { UsersRepo } from './users.ts';

export function createTotpRepo(db: Db, bus: EventBus, usersRepo: UsersRepo) {
  const changed = (email: string) =>
    bus.publish('user.changed', { email, domain: email.split('@')[1]!, action: 'updated', fields: ['totp'] });

  return {
    /** Stores a newly enrolled secret as pending (the active one, if any, is untouched). */
    setPending(email: string, encryptedSecret: string): void {
      const u = usersRepo.require(email);
      db.update(users)
        .set({ totp_pending_secret: encryptedSecret, updated_at: Date.now() })
        .where(eq(users.id, u.id))
        .run();
      changed(u.email);
    },

    /**
     * Makes the pending secret the active one, with `step` as the last accepted step and `codeHashes` as the
     * only recovery codes. False (nothing changed) when the pending secret is no longer `encryptedSecret`.
     */
    activate(email: string, encryptedSecret: string, step: number, codeHashes: string[]): boolean {
      const u = usersRepo.require(email);
      const done = db.transaction((tx) => {
        const r = tx
          .update(users)
          .set({
            totp_secret: encryptedSecret,
            totp_enabled: true,
            totp_pending_secret: null,
            totp_last_step: step,
            updated_at: Date.now(),
          })
          .where(and(eq(users.id, u.id), eq(users.totp_pending_secret, encryptedSecret)))
          .run();
        if (r.changes !== 1) return false;
        tx.delete(recoveryCodes).where(eq(recoveryCodes.user_id, u.id)).run();
        if (codeHashes.length)
          tx.insert(recoveryCodes)
            .values(codeHashes.map((code_hash) => ({ user_id: u.id, code_hash })))
            .run();
        return true;
      });
      if (done) changed(u.email);
      return done;
    },

    /** Records `step` as the last accepted one unless a step as late or later already is; false then. */
    acceptStep(userId: number, step: number): boolean {
      const r = db
        .update(users)
        .set({ totp_last_step: step })
        .where(and(eq(users.id, userId), or(isNull(users.totp_last_step), lt(users.totp_last_step, step))))
        .run();
      return r.changes === 1;
    },

    /** The user's unspent recovery codes. */
    unusedRecoveryCodes(userId: number): RecoveryCodeRow[] {
      return db
        .select()
        .from(recoveryCodes)
        .where(and(eq(recoveryCodes.user_id, userId), isNull(recoveryCodes.used_at)))
        .orderBy(asc(recoveryCodes.id))
        .all();
    },

    /** Marks a recovery code spent; false when it already was. */
    spendRecoveryCode(id: number): boolean {
      const r = db
        .update(recoveryCodes)
        .set({ used_at: Date.now() })
        .where(and(eq(recoveryCodes.id, id), isNull(recoveryCodes.used_at)))
        .run();
      return r.changes === 1;
    },

    /** Turns TOTP off: secrets, last step and recovery codes are removed. */
    disable(email: string): void {
      const u = usersRepo.require(email);
      db.transaction((tx) => {
        tx.update(users)
          .set({
            totp_secret: null,
            totp_enabled: false,
            totp_pending_secret: null,
            totp_last_step: null,
            updated_at: Date.now(),
          })
          .where(eq(users.id, u.id))
          .run();
        tx.delete(recoveryCodes).where(eq(recoveryCodes.user_id, u.id)).run();
      });
      changed(u.email);
    },
  };
}

export type TotpRepo = ReturnType<typeof createTotpRepo>;
