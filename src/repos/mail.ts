/**
 * Mail index repository: mailboxes and messages. Rules: a delivery to several mailboxes commits in one
 * transaction together with its delivery events and its forwarded copies' queue rows (one fsync), and only
 * then are the events published; a UID is the mailbox's uidnext at insert time and uidnext only grows; every
 * insert bumps the mailbox's highestmodseq; a user's used_bytes changes in the same transaction as the rows it
 * counts; the directories a batch names are fsync'd before its transaction. deliver()/deliverBatch() commit on
 * this connection (blocking the event loop for the commit's fsync); deliverBatchAsync() commits on the mail
 * writer thread (mailWriter.ts) when the database is a file.
 */
import { and, eq, sql } from 'drizzle-orm';
import { type MailboxRow, mailboxes, messages } from '../../schema/db/tables.ts';
import { connectionPragmas, type Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import type { DeliveryEvent } from '../events/topics.ts';
import { type NewDeliveryEvent, toDeliveryEvent } from './deliveryEvents.ts';
import { createMailWriter, type MailWriter } from './mailWriter.ts';
import type { NewMessage } from './mailWrites.ts';
import {
  createMailWrites,
  type DeliveryJob,
  deliveryStatements,
  eventRows,
  type StoredMessage,
  type WriteResult,
} from './mailWrites.ts';
import type { NewQueueEntry } from './queue.ts';

export type { DeliveryJob, NewMessage, StoredMessage } from './mailWrites.ts';

export function createMailRepo(db: Db, bus: EventBus) {
  let writes: ReturnType<typeof createMailWrites> | undefined;
  let writer: MailWriter | undefined;
  let statements: ReturnType<typeof deliveryStatements> | undefined;
  const client = db.$client;
  // Built on first use (the repositories may be created before the tables exist).
  let mailboxByName: ReturnType<typeof prepareMailboxByName> | undefined;
  const prepareMailboxByName = () =>
    db
      .select()
      .from(mailboxes)
      .where(and(eq(mailboxes.user_id, sql.placeholder('user')), eq(mailboxes.name, sql.placeholder('name'))))
      .prepare();

  /** Maps committed rows to results and publishes their events (after the commit). */
  const publish = (jobs: DeliveryJob[], written: WriteResult[], now: number): BatchResult[] =>
    written.map((w, i): BatchResult => {
      if (!w.ok) return w;
      const r = {
        ok: true as const,
        stored: w.stored,
        events: eventRows(jobs[i]!, w.eventIds, now).map(toDeliveryEvent),
      };
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
      return r;
    });

  const repo = {
    mailbox(userId: number, name: string): MailboxRow | undefined {
      mailboxByName ??= prepareMailboxByName();
      return mailboxByName.get({ user: userId, name });
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
    deliverBatch(jobs: DeliveryJob[], syncDirs: readonly string[] = []): BatchResult[] {
      writes ??= createMailWrites(db);
      const now = Date.now();
      return publish(jobs, writes.writeBatch(jobs, now, syncDirs), now);
    },

    /**
     * deliverBatch() committed on the mail writer thread, so the event loop is free during the fsyncs of
     * `syncDirs` and of the commit. Same results and rules; an in-memory database commits in-process.
     */
    async deliverBatchAsync(jobs: DeliveryJob[], syncDirs: string[] = []): Promise<BatchResult[]> {
      if (client.memory) return repo.deliverBatch(jobs, syncDirs);
      if (!writer) {
        statements ??= deliveryStatements(db);
        const busyTimeoutMs = Number(client.pragma('busy_timeout', { simple: true }));
        writer = createMailWriter({
          path: client.name,
          busyTimeoutMs,
          pragmas: connectionPragmas({
            path: client.name,
            walEnabled: String(client.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal',
            busyTimeoutMs,
          }),
          sql: statements.text,
        });
      }
      const now = Date.now();
      const encoded = jobs.map((j) => statements!.encode(j, now));
      return publish(jobs, await writer.write(encoded, syncDirs), now);
    },

    /** Stops the mail writer thread once its batches are committed (before the database is closed). */
    async close(): Promise<void> {
      await writer?.close();
      writer = undefined;
    },

    messages(mailboxId: number) {
      return db.select().from(messages).where(eq(messages.mailbox_id, mailboxId)).orderBy(messages.uid).all();
    },
  };
  return repo;
}

export interface DeliveryResult {
  stored: StoredMessage[];
  events: DeliveryEvent[];
}
export type BatchResult = ({ ok: true } & DeliveryResult) | { ok: false; error: Error };

export type MailRepo = ReturnType<typeof createMailRepo>;
