/**
 * Cached MTA-STS policies of recipient domains (RFC 8461 5.1), in the mta_sts_policies table: the SQL behind
 * queue/mtaSts.ts, which holds the rules and sees this repository only through its MtaStsStore interface.
 * Rules: one row per domain (lowercase, no trailing dot: the caller normalizes); put() replaces the domain's row;
 * times are milliseconds since the epoch, max_age seconds; nothing is published on the bus (a cache).
 */
import { eq } from 'drizzle-orm';
import { type MtaStsRow, mtaStsPolicies } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';

export type { MtaStsRow };

export function createMtaStsRepo(db: Db) {
  return {
    /** The cached policy of `domain`, expired or not. */
    get(domain: string): MtaStsRow | undefined {
      return db.select().from(mtaStsPolicies).where(eq(mtaStsPolicies.domain, domain)).get();
    },
    /** Stores `row` as the domain's policy (replacing any). */
    put(row: MtaStsRow): void {
      const { policy_id, mode, mx, max_age, fetched_at, expires_at } = row;
      db.insert(mtaStsPolicies)
        .values(row)
        .onConflictDoUpdate({
          target: mtaStsPolicies.domain,
          set: { policy_id, mode, mx, max_age, fetched_at, expires_at },
        })
        .run();
    },
    delete(domain: string): void {
      db.delete(mtaStsPolicies).where(eq(mtaStsPolicies.domain, domain)).run();
    },
  };
}

export type MtaStsRepo = ReturnType<typeof createMtaStsRepo>;
