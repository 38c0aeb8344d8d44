/**
 * Greylist triplets (client network, envelope sender, recipient) in SQLite: the SQL behind policy/greylist.ts,
 * which holds the rules and sees this repository only through its GreylistStore interface (a Redis store can
 * take its place). Rules: the caller normalizes the triplet (policy/greylist.ts); every statement is prepared once,
 * on first use, with placeholders (greylisting runs on every RCPT); insert() also restarts a triplet whose row is
 * still there but expired (an upsert, so two sessions meeting a new triplet at once cannot collide on the unique
 * index); nothing is published on the bus (the rows are disposable protection state, schema/db/protection.ts).
 */
import { and, eq, lt, sql } from 'drizzle-orm';
import { greylist } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';

export interface GreylistTriplet {
  ip_net: string;
  sender: string;
  recipient: string;
}

export interface GreylistEntry {
  first_seen_at: number;
  last_seen_at: number;
  pass_count: number;
}

export function createGreylistRepo(db: Db) {
  const ph = (name: string) => sql.placeholder(name);
  const tripletIs = and(
    eq(greylist.ip_net, ph('ip_net')),
    eq(greylist.sender, ph('sender')),
    eq(greylist.recipient, ph('recipient')),
  );
  // Built on first use: the repositories may be created before the tables exist.
  const build = () => ({
    get: db
      .select({
        first_seen_at: greylist.first_seen_at,
        last_seen_at: greylist.last_seen_at,
        pass_count: greylist.pass_count,
      })
      .from(greylist)
      .where(tripletIs)
      .prepare(),
    insert: db
      .insert(greylist)
      .values({
        ip_net: ph('ip_net'),
        sender: ph('sender'),
        recipient: ph('recipient'),
        first_seen_at: ph('now'),
        last_seen_at: ph('now'),
        pass_count: 0,
      })
      .onConflictDoUpdate({
        target: [greylist.ip_net, greylist.sender, greylist.recipient],
        set: { first_seen_at: ph('now'), last_seen_at: ph('now'), pass_count: 0 },
      })
      .prepare(),
    update: db
      .update(greylist)
      .set({ last_seen_at: ph('now'), pass_count: sql`${greylist.pass_count} + ${ph('passed')}` })
      .where(tripletIs)
      .prepare(),
    deleteExpired: db
      .delete(greylist)
      .where(lt(greylist.last_seen_at, ph('before')))
      .prepare(),
  });
  let q: ReturnType<typeof build> | undefined;
  const stmts = () => (q ??= build());
  const key = (t: GreylistTriplet) => ({ ip_net: t.ip_net, sender: t.sender, recipient: t.recipient });

  return {
    /** The triplet's row, expired or not, or undefined. */
    get(t: GreylistTriplet): GreylistEntry | undefined {
      return stmts().get.get(key(t));
    },
    /** Records a triplet as first seen now (a fresh row, or an existing one restarted: pass_count 0). */
    insert(t: GreylistTriplet, now: number): void {
      stmts().insert.run({ ...key(t), now });
    },
    /** Marks the triplet seen now; a pass (delivery let through) also counts one more pass. */
    update(t: GreylistTriplet, now: number, passed: boolean): void {
      stmts().update.run({ ...key(t), now, passed: passed ? 1 : 0 });
    },
    /** Deletes the rows last seen before `before` (ms); returns how many. */
    deleteExpired(before: number): number {
      return stmts().deleteExpired.run({ before }).changes;
    },
  };
}

export type GreylistRepo = ReturnType<typeof createGreylistRepo>;
