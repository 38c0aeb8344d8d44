/**
 * Blocked and allowed client addresses (table blocked_ips; see schema/db/protection.ts for the columns). Rules:
 * one row per address (an IP, or `account:<address>` for a blocked account), so setting a block replaces the
 * previous entry of that address; an expired row (blocked_until <= now) counts as absent and is deleted by
 * cleanup(); writes commit, then publish `blockedIp.changed`. IPs are stored as given (lower-cased), no CIDR.
 */
import { and, asc, eq, gt, isNotNull, isNull, lte, or } from 'drizzle-orm';
import { type BlockedIpRow, blockedIps } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { NotFoundError } from './errors.ts';

export type BlockKind = BlockedIpRow['kind'];

export interface NewBlock {
  ip: string;
  kind: BlockKind;
  reason: string;
  /** null = permanent. */
  until: number | null;
}

const key = (ip: string) => ip.trim().toLowerCase();

export function createBlockedIpsRepo(db: Db, bus: EventBus) {
  const live = (now: number) => or(isNull(blockedIps.blocked_until), gt(blockedIps.blocked_until, now));
  return {
    /** The live entry of an address, or undefined. */
    get(ip: string, now = Date.now()): BlockedIpRow | undefined {
      return db
        .select()
        .from(blockedIps)
        .where(and(eq(blockedIps.ip, key(ip)), live(now)))
        .get();
    },

    /** Live entries, oldest first. */
    list(now = Date.now()): BlockedIpRow[] {
      return db.select().from(blockedIps).where(live(now)).orderBy(asc(blockedIps.created_at)).all();
    },

    set(b: NewBlock, now = Date.now()): BlockedIpRow {
      const values = { ip: key(b.ip), kind: b.kind, reason: b.reason, blocked_until: b.until, created_at: now };
      const row = db
        .insert(blockedIps)
        .values(values)
        .onConflictDoUpdate({ target: blockedIps.ip, set: values })
        .returning()
        .get();
      bus.publish('blockedIp.changed', { ip: row.ip, kind: row.kind, action: 'created' });
      return row;
    },

    /** Deletes the entry (live or expired); NotFoundError when there is none. */
    remove(ip: string): BlockedIpRow {
      const row = db
        .delete(blockedIps)
        .where(eq(blockedIps.ip, key(ip)))
        .returning()
        .get();
      if (!row) throw new NotFoundError('blocked ip', key(ip));
      bus.publish('blockedIp.changed', { ip: row.ip, kind: row.kind, action: 'deleted' });
      return row;
    },

    /** Deletes expired entries; returns how many. */
    cleanup(now = Date.now()): number {
      return db
        .delete(blockedIps)
        .where(and(isNotNull(blockedIps.blocked_until), lte(blockedIps.blocked_until, now)))
        .run().changes;
    },
  };
}

export type BlockedIpsRepo = ReturnType<typeof createBlockedIpsRepo>;
