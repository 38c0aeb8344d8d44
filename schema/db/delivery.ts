/**
 * Outbound queue, MTA-STS policy cache and delivery events. Rules: one queue row per (message, recipient); the
 * message bytes live in a spool file shared by its rows, removed when no row still needs it; a row's `sender` is
 * the envelope sender used on the wire (SRS-rewritten for forwarded copies) and `dsn_to` where a DSN goes (the
 * original sender; empty for none). Delivery events are the durable history behind the `deliveryEvents`
 * subscription; their retention is configurable and old rows are pruned.
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './accounts.ts';
import { now } from './columns.ts';

export const QUEUE_STATUSES = ['queued', 'deferred', 'sending', 'delivered', 'bounced', 'cancelled'] as const;

export const outboundQueue = sqliteTable(
  'outbound_queue',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    queue_id: text('queue_id').notNull(),
    spool_file: text('spool_file').notNull(),
    sender: text('sender').notNull(),
    recipient: text('recipient').notNull(),
    recipient_domain: text('recipient_domain').notNull(),
    size: integer('size').notNull(),
    user_id: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
    status: text('status', { enum: QUEUE_STATUSES }).notNull().default('queued'),
    attempts: integer('attempts').notNull().default(0),
    next_attempt_at: integer('next_attempt_at').notNull().default(now),
    last_attempt_at: integer('last_attempt_at'),
    last_error: text('last_error'),
    last_code: integer('last_code'),
    dsn_envid: text('dsn_envid'),
    dsn_notify: text('dsn_notify'),
    dsn_ret: text('dsn_ret'),
    /** RFC 3461 ORCPT of this recipient, as given (`rfc822;addr`). */
    dsn_orcpt: text('dsn_orcpt'),
    /** Where a bounce or delay notice goes (the original sender); null or '' for none (null sender). */
    dsn_to: text('dsn_to'),
    /** submission | forward | dsn: why the copy is queued (forwarded copies are SRS-rewritten and ARC-sealed). */
    origin: text('origin', { enum: ['submission', 'forward', 'dsn'] })
      .notNull()
      .default('forward'),
    /** The MX host of the last attempt, and when a delay notice was sent (null: not yet). */
    last_mx: text('last_mx'),
    delay_notified_at: integer('delay_notified_at'),
    created_at: integer('created_at').notNull().default(now),
    expires_at: integer('expires_at').notNull(),
  },
  (t) => [
    index('outbound_queue_due_idx').on(t.status, t.next_attempt_at),
    index('outbound_queue_queue_id_idx').on(t.queue_id),
  ],
);

/**
 * MTA-STS policies of recipient domains (RFC 8461 5.1: kept until max_age runs out, refreshed when the TXT
 * record's id changes), so a restart does not forget an `enforce` domain.
 */
export const mtaStsPolicies = sqliteTable('mta_sts_policies', {
  domain: text('domain').primaryKey(),
  policy_id: text('policy_id').notNull(),
  mode: text('mode', { enum: ['enforce', 'testing', 'none'] }).notNull(),
  mx: text('mx', { mode: 'json' }).$type<string[]>().notNull(),
  max_age: integer('max_age').notNull(),
  fetched_at: integer('fetched_at').notNull(),
  expires_at: integer('expires_at').notNull(),
});

export const DELIVERY_EVENT_TYPES = [
  'RECEIVED',
  'REJECTED',
  'GREYLISTED',
  'DELIVERED_LOCAL',
  'QUEUED',
  'DELIVERY_ATTEMPT',
  'DEFERRED',
  'QUARANTINED',
  'DELIVERED_REMOTE',
  'BOUNCED',
] as const;
export type DeliveryEventType = (typeof DELIVERY_EVENT_TYPES)[number];

export const deliveryEvents = sqliteTable(
  'delivery_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    type: text('type', { enum: DELIVERY_EVENT_TYPES }).notNull(),
    at: integer('at').notNull(),
    message_id: text('message_id'),
    queue_id: text('queue_id'),
    sender: text('sender'),
    recipients: text('recipients', { mode: 'json' }).$type<string[]>().notNull().default([]),
    domain: text('domain'),
    user_email: text('user_email'),
    remote_ip: text('remote_ip'),
    reason: text('reason'),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [index('delivery_events_at_idx').on(t.at), index('delivery_events_domain_idx').on(t.domain, t.at)],
);

export type MtaStsRow = typeof mtaStsPolicies.$inferSelect;
export type QueueRow = typeof outboundQueue.$inferSelect;
export type DeliveryEventRow = typeof deliveryEvents.$inferSelect;
