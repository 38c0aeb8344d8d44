/**
 * Abuse protection state: greylist triplets, rate-limit counters (fixed windows keyed by rule and subject) and
 * blocked IPs (brute-force guard). All rows are disposable: losing them weakens protection, never mail.
 */
import { index, integer, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

export const greylist = sqliteTable(
  'greylist',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The client's network: /24 for IPv4, /64 for IPv6. */
    ip_net: text('ip_net').notNull(),
    sender: text('sender').notNull(),
    recipient: text('recipient').notNull(),
    first_seen_at: integer('first_seen_at').notNull(),
    last_seen_at: integer('last_seen_at').notNull(),
    pass_count: integer('pass_count').notNull().default(0),
  },
  (t) => [
    uniqueIndex('greylist_triplet_idx').on(t.ip_net, t.sender, t.recipient),
    // The periodic cleanup deletes by age (last_seen_at < cutoff) without scanning the table.
    index('greylist_last_seen_idx').on(t.last_seen_at),
  ],
);

export const rateLimitCounters = sqliteTable('rate_limit_counters', {
  /** "<rule>:<subject>", e.g. "smtp_per_ip:192.0.2.1". */
  key: text('key').primaryKey(),
  window_start: integer('window_start').notNull(),
  count: integer('count').notNull(),
});

/**
 * Login access by client address (auth/bruteForce.ts). `ip` is an IP address, or `account:<address>` for an
 * account blocked after failures from many addresses. kind: `auto` (set by the brute-force guard), `manual` (the
 * admin's blacklist, enforced while the domain's auth_ip_blacklist_enabled is on), `allow` (never blocked).
 * blocked_until null = permanent (manual and allow entries may be); expired rows are ignored and cleaned up.
 */
export const blockedIps = sqliteTable(
  'blocked_ips',
  {
    ip: text('ip').primaryKey(),
    kind: text('kind', { enum: ['auto', 'manual', 'allow'] })
      .notNull()
      .default('auto'),
    reason: text('reason').notNull(),
    blocked_until: integer('blocked_until'),
    created_at: integer('created_at').notNull(),
  },
  (t) => [index('blocked_ips_until_idx').on(t.blocked_until)],
);

export type BlockedIpRow = typeof blockedIps.$inferSelect;
