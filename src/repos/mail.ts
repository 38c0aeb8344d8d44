/**
 * Mail index repository: mailboxes and messages. Rules: a delivery to several mailboxes commits in one
 * transaction together with its delivery events and its forwarded copies' queue rows (one fsync), and only
 * then are the events published; a UID is
 * the mailbox's uidnext at insert time and uidnext only grows; every insert bumps the mailbox's highestmodseq;
 * a user's used_bytes changes in the same transaction as the rows it counts.
 */
import { and, eq, sql } from 'drizzle-orm';
import { deliveryEvents, type MailboxRow, mailboxes, messages, outboundQueue, users } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import type { DeliveryEvent } from '../events/topics.ts';
import { type NewDeliveryEvent, toDeliveryEvent, toEventRow } from './deliveryEvents.ts';
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

export function createMailRepo(db: Db, bus: EventBus) {
  const repo = {
    mailbox(userId: number, name: string): MailboxRow | undefined {
      return db
        .select()
        .from(mailboxes)
        .where(and(eq(mailboxes.user_id, userId), eq(mailboxes.name, name)))
        .get();
    },

    /**
     * Indexes messages whose files are already durable on disk, and records the delivery events, in one
     * transaction. Throws (and changes nothing) if any part fails.
     */
    deliver(items: NewMessage[], events: NewDeliveryEvent[], forwards: NewQueueEntry[] = []): DeliveryResult {
      const [r] = repo.deliverBatch([{ items, events, forwards }]);
      if (!r!.ok) throw r!.error;
      return r!;
    },

    /**
     * Group commit: several deliveries in one transaction (one fsync), each inside its own savepoint so a
     * failing delivery is rolled back alone and reported as failed; the others commit. If the commit itself
     * fails, every delivery of the batch is reported failed. Events are published after the commit.
     */
    deliverBatch(jobs: DeliveryJob[]): BatchResult[] {
      let results: BatchResult[] = [];
      try {
        results = db.transaction((tx) =>
          jobs.map((job): BatchResult => {
            try {
              return { ok: true as const, ...tx.transaction((sp) => insertDelivery(sp as unknown as Db, job)) };
            } catch (error) {
              return { ok: false as const, error: error as Error };
            }
          }),
        );
      } catch (error) {
        return jobs.map(() => ({ ok: false as const, error: error as Error }));
      }
      results.forEach((r, i) => {
        if (!r.ok) return;
        for (const s of r.stored)
          bus.publish('mailbox.changed', {
            userId: s.userId,
            mailboxId: s.mailboxId,
            kind: 'exists',
            uids: [s.uid],
            modseq: s.modseq,
          });
        for (const e of r.events) bus.publish('delivery', e);
        for (const f of jobs[i]!.forwards) bus.publish('queue.changed', { queueId: f.queue_id, status: 'queued' });
      });
      return results;
    },

    messages(mailboxId: number) {
      return db.select().from(messages).where(eq(messages.mailbox_id, mailboxId)).orderBy(messages.uid).all();
    },
  };
  return repo;
}

export interface DeliveryJob {
  items: NewMessage[];
  events: NewDeliveryEvent[];
  forwards: NewQueueEntry[];
}
export interface DeliveryResult {
  stored: StoredMessage[];
  events: DeliveryEvent[];
}
export type BatchResult = ({ ok: true } & DeliveryResult) | { ok: false; error: Error };

/** The writes of one delivery (runs inside a transaction or savepoint). */
function insertDelivery(tx: Db, { items, events, forwards }: DeliveryJob): DeliveryResult {
  const now = Date.now();
  if (forwards.length)
    tx.insert(outboundQueue)
      .values(forwards.map((f) => ({ ...f, next_attempt_at: now, expires_at: f.expires_at ?? now + 5 * 86_400_000 })))
      .run();
  const stored: StoredMessage[] = [];
  for (const m of items) {
    const box = tx
      .update(mailboxes)
      .set({ uidnext: sql`${mailboxes.uidnext} + 1`, highestmodseq: sql`${mailboxes.highestmodseq} + 1` })
      .where(eq(mailboxes.id, m.mailboxId))
      .returning({ uidnext: mailboxes.uidnext, modseq: mailboxes.highestmodseq })
      .get();
    if (!box) throw new Error(`mailbox ${m.mailboxId} disappeared during delivery`);
    const uid = box.uidnext - 1;
    tx.insert(messages)
      .values({
        mailbox_id: m.mailboxId,
        uid,
        modseq: box.modseq,
        seen: m.seen ?? false,
        internal_date: m.internalDate,
        size: m.size,
        maildir_name: m.maildirName,
        message_id: m.messageId,
        subject: m.subject,
        from_addr: m.fromAddr,
        date_header: m.dateHeader,
      })
      .run();
    tx.update(users)
      .set({ used_bytes: sql`${users.used_bytes} + ${m.size}` })
      .where(eq(users.id, m.userId))
      .run();
    stored.push({ userId: m.userId, mailboxId: m.mailboxId, uid, modseq: box.modseq });
  }
  const rows = events.length
    ? tx
        .insert(deliveryEvents)
        .values(events.map((e) => toEventRow(e, now)))
        .returning()
        .all()
    : [];
  return { stored, events: rows.map(toDeliveryEvent) };
}

export type MailRepo = ReturnType<typeof createMailRepo>;
