/**
 * The SQL of a delivery's index writes, shared by the deliveries repository's in-process commit (main connection)
 * and the store's commit thread (its own connection; store/commitThread.ts). Rules: the statements are built once
 * with Drizzle's query builder and placeholders (no SQL built per delivery); a job is encoded for the driver here,
 * on the main thread, with Drizzle's column encoders (JSON, booleans), so the thread only binds and runs
 * (deliveryTransaction.mjs); nothing is published here (the caller publishes after the commit). Results are plain
 * data (they cross a thread boundary).
 */
import { eq, fillPlaceholders, Param, Placeholder, type Query, sql } from 'drizzle-orm';
import {
  type DeliveryEventRow,
  deliveryEvents,
  mailboxes,
  messages,
  outboundQueue,
  users,
} from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import { type NewDeliveryEvent, toEventRow } from './deliveryEvents.ts';
import type { NewQueueEntry } from './queue.ts';

export interface NewMessage {
  userId: number;
  mailboxId: number;
  maildirName: string;
  size: number;
  internalDate: number;
  messageId: string | null;
  subject: string | null;
  fromAddr: string | null;
  dateHeader: number | null;
  seen?: boolean;
}

export interface StoredMessage {
  userId: number;
  mailboxId: number;
  uid: number;
  modseq: number;
}

export interface DeliveryJob {
  items: NewMessage[];
  events: NewDeliveryEvent[];
  forwards: NewQueueEntry[];
}

/** A job as the driver binds it: positional parameter arrays (uid and modseq are filled in by the writer). */
export interface EncodedJob {
  queue: unknown[][];
  items: { userId: number; mailboxId: number; message: unknown[]; usedBytes: unknown[] }[];
  events: unknown[][];
}

/** The delivery statements' SQL text, and where the message insert takes its uid and modseq. */
export interface DeliverySql {
  bump: string;
  message: string;
  usedBytes: string;
  event: string;
  queue: string;
  uidAt: number;
  modseqAt: number;
}

/** One job's outcome, before the events are published. */
export type WriteResult = { ok: true; stored: StoredMessage[]; eventIds: number[] } | { ok: false; error: Error };

const p = sql.placeholder;

/** The placeholder names of a query's parameters, in binding order (null for a bound constant). */
const names = (q: Query) =>
  q.params.map((x) => {
    const ph = x instanceof Param ? x.value : x;
    return ph instanceof Placeholder ? ph.name : null;
  });

export function deliveryStatements(db: Db) {
  const bump = db
    .update(mailboxes)
    .set({ uidnext: sql`${mailboxes.uidnext} + 1`, highestmodseq: sql`${mailboxes.highestmodseq} + 1` })
    .where(eq(mailboxes.id, p('id')))
    .returning({ uidnext: mailboxes.uidnext, modseq: mailboxes.highestmodseq })
    .toSQL();
  const message = db
    .insert(messages)
    .values({
      mailbox_id: p('mailbox_id'),
      uid: p('uid'),
      modseq: p('modseq'),
      seen: p('seen'),
      internal_date: p('internal_date'),
      size: p('size'),
      maildir_name: p('maildir_name'),
      message_id: p('message_id'),
      subject: p('subject'),
      from_addr: p('from_addr'),
      date_header: p('date_header'),
    })
    .toSQL();
  const usedBytes = db
    .update(users)
    .set({ used_bytes: sql`${users.used_bytes} + ${p('size')}` })
    .where(eq(users.id, p('id')))
    .toSQL();
  const event = db
    .insert(deliveryEvents)
    .values({
      type: p('type'),
      at: p('at'),
      message_id: p('message_id'),
      queue_id: p('queue_id'),
      sender: p('sender'),
      recipients: p('recipients'),
      domain: p('domain'),
      user_email: p('user_email'),
      remote_ip: p('remote_ip'),
      reason: p('reason'),
      details: p('details'),
    })
    .returning({ id: deliveryEvents.id })
    .toSQL();
  const queue = db
    .insert(outboundQueue)
    .values({
      queue_id: p('queue_id'),
      spool_file: p('spool_file'),
      sender: p('sender'),
      recipient: p('recipient'),
      recipient_domain: p('recipient_domain'),
      size: p('size'),
      user_id: p('user_id'),
      next_attempt_at: p('next_attempt_at'),
      expires_at: p('expires_at'),
      dsn_envid: p('dsn_envid'),
      dsn_notify: p('dsn_notify'),
      dsn_ret: p('dsn_ret'),
      dsn_orcpt: p('dsn_orcpt'),
      dsn_to: p('dsn_to'),
      origin: p('origin'),
    })
    .toSQL();
  const messageNames = names(message);
  const text: DeliverySql = {
    bump: bump.sql,
    message: message.sql,
    usedBytes: usedBytes.sql,
    event: event.sql,
    queue: queue.sql,
    uidAt: messageNames.indexOf('uid'),
    modseqAt: messageNames.indexOf('modseq'),
  };
  const bind = (q: Query, values: Record<string, unknown>) => fillPlaceholders(q.params, values);

  /** Encodes a job for the driver (Drizzle's column encoders), at `now`. */
  const encode = ({ items, events, forwards }: DeliveryJob, now: number): EncodedJob => ({
    queue: forwards.map((f) =>
      bind(queue, {
        user_id: null,
        dsn_envid: null,
        dsn_notify: null,
        dsn_ret: null,
        dsn_orcpt: null,
        // A forwarded copy's bounce goes to the original sender (also the SRS-reversed address of its envelope).
        dsn_to: f.sender,
        origin: 'forward',
        ...f,
        next_attempt_at: now,
        expires_at: f.expires_at ?? now + 5 * 86_400_000,
      }),
    ),
    items: items.map((m) => ({
      userId: m.userId,
      mailboxId: m.mailboxId,
      message: bind(message, {
        mailbox_id: m.mailboxId,
        uid: 0,
        modseq: 0,
        seen: m.seen ?? false,
        internal_date: m.internalDate,
        size: m.size,
        maildir_name: m.maildirName,
        message_id: m.messageId,
        subject: m.subject,
        from_addr: m.fromAddr,
        date_header: m.dateHeader,
      }),
      usedBytes: bind(usedBytes, { id: m.userId, size: m.size }),
    })),
    events: events.map((e) => bind(event, toEventRow(e, now))),
  });

  return { text, encode };
}

/** The event rows a committed job inserted: its new events with their ids. */
export function eventRows(job: DeliveryJob, ids: number[], now: number): DeliveryEventRow[] {
  return job.events.map((e, i) => {
    const row = toEventRow(e, now);
    return { id: ids[i]!, ...row, details: row.details ?? null };
  });
}
