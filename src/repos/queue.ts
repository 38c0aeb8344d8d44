/**
 * Outbound queue repository: one row per (message, recipient). Rules: retry makes an entry due now (attempts are
 * kept); delete removes entries that are not being sent right now; writes commit, then publish `queue.changed`.
 */
import { and, asc, count, eq, gt, inArray, ne } from 'drizzle-orm';
import { outboundQueue, type QUEUE_STATUSES, type QueueRow } from '../../schema/db/delivery.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { ConflictError, NotFoundError } from './errors.ts';

export type QueueStatus = (typeof QUEUE_STATUSES)[number];
export type NewQueueEntry = Pick<
  QueueRow,
  'queue_id' | 'spool_file' | 'sender' | 'recipient' | 'recipient_domain' | 'size'
> &
  Partial<
    Pick<
      QueueRow,
      'user_id' | 'expires_at' | 'dsn_envid' | 'dsn_notify' | 'dsn_ret' | 'dsn_orcpt' | 'dsn_to' | 'origin'
    >
  >;

export function createQueueRepo(db: Db, bus: EventBus) {
  const repo = {
    enqueue(entries: NewQueueEntry[]): QueueRow[] {
      const now = Date.now();
      const rows = db
        .insert(outboundQueue)
        .values(entries.map((e) => ({ ...e, next_attempt_at: now, expires_at: e.expires_at ?? now + 5 * 86_400_000 })))
        .returning()
        .all();
      for (const r of rows) bus.publish('queue.changed', { queueId: r.queue_id, status: r.status });
      return rows;
    },
    get(id: number): QueueRow | undefined {
      return db.select().from(outboundQueue).where(eq(outboundQueue.id, id)).get();
    },
    list(opts: { after?: number; limit?: number; statuses?: QueueStatus[]; domain?: string } = {}): QueueRow[] {
      const conds = [gt(outboundQueue.id, opts.after ?? 0)];
      if (opts.statuses?.length) conds.push(inArray(outboundQueue.status, opts.statuses));
      if (opts.domain) conds.push(eq(outboundQueue.recipient_domain, opts.domain));
      return db
        .select()
        .from(outboundQueue)
        .where(and(...conds))
        .orderBy(asc(outboundQueue.id))
        .limit(opts.limit ?? 100)
        .all();
    },
    count(opts: { statuses?: QueueStatus[] } = {}): number {
      const q = db.select({ n: count() }).from(outboundQueue);
      return (opts.statuses?.length ? q.where(inArray(outboundQueue.status, opts.statuses)) : q).get()?.n ?? 0;
    },
    retry(id: number): QueueRow {
      const row = db
        .update(outboundQueue)
        .set({ status: 'queued', next_attempt_at: Date.now() })
        .where(and(eq(outboundQueue.id, id), inArray(outboundQueue.status, ['queued', 'deferred'])))
        .returning()
        .get();
      if (!row) {
        const current = repo.get(id);
        if (!current) throw new NotFoundError('queue entry', String(id));
        throw new ConflictError(`queue entry ${id} is ${current.status} and cannot be retried`);
      }
      bus.publish('queue.changed', { queueId: row.queue_id, status: row.status });
      return row;
    },
    delete(id: number): QueueRow {
      const row = db
        .delete(outboundQueue)
        .where(and(eq(outboundQueue.id, id), ne(outboundQueue.status, 'sending')))
        .returning()
        .get();
      if (!row) {
        if (!repo.get(id)) throw new NotFoundError('queue entry', String(id));
        throw new ConflictError(`queue entry ${id} is being delivered right now; try again in a moment`);
      }
      bus.publish('queue.changed', { queueId: row.queue_id, status: 'cancelled' });
      return row;
    },
    /** Rows still referencing a spool file (the caller removes the file when none do). */
    spoolReferences(spoolFile: string): number {
      return db.select({ n: count() }).from(outboundQueue).where(eq(outboundQueue.spool_file, spoolFile)).get()?.n ?? 0;
    },
  };
  return repo;
}

export type QueueRepo = ReturnType<typeof createQueueRepo>;
