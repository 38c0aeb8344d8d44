/**
 * Outbound queue repository: one row per (message, recipient). Rules: retry makes queued or deferred entries due
 * now (attempts are kept) and leaves entries that are being sent, delivered, bounced or cancelled alone; delete
 * removes entries that are not being sent right now and refuses those in 'sending' (the worker owns them until it
 * settles them); a selection naming a row or queue id that does not exist changes nothing (NotFoundError); delete
 * reports the spool files no remaining row needs (needing = queued, deferred or sending: a delivered, bounced or
 * cancelled row kept for history does not keep its file), checked in its transaction, and the caller unlinks them
 * (src/queue/spoolFiles.ts; no file system work here); writes commit, then publish `queue.changed` once per
 * (queue id, status).
 */
import { and, asc, count, desc, eq, gt, inArray, lt, ne, type SQL, sql } from 'drizzle-orm';
import { outboundQueue, QUEUE_STATUSES, type QueueRow } from '../../schema/db/delivery.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import { InvalidInputError, NotFoundError } from './errors.ts';

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

/** Rows that wait for (or are in) a delivery attempt: what a queue's age and size are measured on. */
export const PENDING_STATUSES: QueueStatus[] = ['queued', 'deferred', 'sending'];
/** Rows retry makes due now. */
export const RETRYABLE_STATUSES: QueueStatus[] = ['queued', 'deferred'];

export interface QueueFilter {
  statuses?: QueueStatus[];
  /** Exact recipient domain (lower case). */
  domain?: string;
  /** Substrings of the envelope sender / recipient, case-insensitive. */
  sender?: string;
  recipient?: string;
  queueId?: string;
}

export interface QueuePage extends QueueFilter {
  /** Row ids strictly after / before these (cursor paging by id). */
  after?: number;
  before?: number;
  limit?: number;
  /** Newest first (for paging backwards). */
  descending?: boolean;
}

/** Which rows a retry or delete applies to: row ids, every row of one message, or (retry only) the whole queue. */
export type QueueSelection = { ids: number[] } | { queueId: string } | { all: true };

export interface QueueChangeResult {
  /** How many rows changed (made due, or removed). */
  affected: number;
  /** The changed rows (for delete: as they were when removed). */
  rows: QueueRow[];
  /** Selected rows left alone: retry, those not queued/deferred; delete, those being sent. */
  refused: QueueRow[];
}

export interface QueueDeleteResult extends QueueChangeResult {
  /** Spool files that no remaining queued, deferred or sending row references: the caller unlinks them. */
  unreferencedSpoolFiles: string[];
}

export interface QueueSummary {
  queued: number;
  deferred: number;
  sending: number;
  /** created_at of the oldest queued, deferred or sending row; null when there is none. */
  oldestAt: number | null;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);
const contains = (column: typeof outboundQueue.sender, text: string): SQL =>
  sql`lower(${column}) like ${`%${escapeLike(text.toLowerCase())}%`} escape '\\'`;

function filterConditions(f: QueueFilter): SQL[] {
  const conds: SQL[] = [];
  if (f.statuses?.length) conds.push(inArray(outboundQueue.status, f.statuses));
  if (f.domain) conds.push(eq(outboundQueue.recipient_domain, f.domain.toLowerCase()));
  if (f.sender) conds.push(contains(outboundQueue.sender, f.sender));
  if (f.recipient) conds.push(contains(outboundQueue.recipient, f.recipient));
  if (f.queueId) conds.push(eq(outboundQueue.queue_id, f.queueId));
  return conds;
}

export function createQueueRepo(db: Db, bus: EventBus) {
  /** One `queue.changed` per distinct (queue id, status), after the commit. */
  const publish = (rows: { queue_id: string; status: string }[]) => {
    const seen = new Set<string>();
    for (const r of rows) {
      const key = `${r.queue_id}\0${r.status}`;
      if (seen.has(key)) continue;
      seen.add(key);
      bus.publish('queue.changed', { queueId: r.queue_id, status: r.status });
    }
  };

  /** The selection as a condition; throws NotFoundError (inside the caller's transaction) when a key is unknown. */
  const selectionWhere = (tx: Pick<Db, 'select'>, sel: QueueSelection): SQL | undefined => {
    if ('all' in sel) return undefined;
    if ('queueId' in sel) {
      const found = tx
        .select({ id: outboundQueue.id })
        .from(outboundQueue)
        .where(eq(outboundQueue.queue_id, sel.queueId))
        .limit(1)
        .get();
      if (!found) throw new NotFoundError('queue id', sel.queueId);
      return eq(outboundQueue.queue_id, sel.queueId);
    }
    if (sel.ids.length === 0) throw new InvalidInputError('name at least one queue entry', 'ids');
    const ids = [...new Set(sel.ids)];
    const existing = new Set(
      tx
        .select({ id: outboundQueue.id })
        .from(outboundQueue)
        .where(inArray(outboundQueue.id, ids))
        .all()
        .map((r) => r.id),
    );
    const missing = ids.find((id) => !existing.has(id));
    if (missing !== undefined) throw new NotFoundError('queue entry', String(missing));
    return inArray(outboundQueue.id, ids);
  };

  const repo = {
    enqueue(entries: NewQueueEntry[]): QueueRow[] {
      const now = Date.now();
      const rows = db
        .insert(outboundQueue)
        .values(entries.map((e) => ({ ...e, next_attempt_at: now, expires_at: e.expires_at ?? now + 5 * 86_400_000 })))
        .returning()
        .all();
      publish(rows);
      return rows;
    },
    get(id: number): QueueRow | undefined {
      return db.select().from(outboundQueue).where(eq(outboundQueue.id, id)).get();
    },
    /** Rows matching the filter, by id (oldest first, or newest first with `descending`). */
    list(opts: QueuePage = {}): QueueRow[] {
      const conds = filterConditions(opts);
      if (opts.after !== undefined) conds.push(gt(outboundQueue.id, opts.after));
      if (opts.before !== undefined) conds.push(lt(outboundQueue.id, opts.before));
      return db
        .select()
        .from(outboundQueue)
        .where(and(...conds))
        .orderBy(opts.descending ? desc(outboundQueue.id) : asc(outboundQueue.id))
        .limit(opts.limit ?? 100)
        .all();
    },
    count(filter: QueueFilter = {}): number {
      return (
        db
          .select({ n: count() })
          .from(outboundQueue)
          .where(and(...filterConditions(filter)))
          .get()?.n ?? 0
      );
    },
    /** Rows per status (every status present, 0 when none). */
    countByStatus(): Record<QueueStatus, number> {
      const out = Object.fromEntries(QUEUE_STATUSES.map((s) => [s, 0])) as Record<QueueStatus, number>;
      const rows = db
        .select({ status: outboundQueue.status, n: count() })
        .from(outboundQueue)
        .groupBy(outboundQueue.status)
        .all();
      for (const r of rows) out[r.status] = r.n;
      return out;
    },
    /** created_at of the oldest queued, deferred or sending row, or null. */
    oldestPending(): number | null {
      const row = db
        .select({ at: outboundQueue.created_at })
        .from(outboundQueue)
        .where(inArray(outboundQueue.status, PENDING_STATUSES))
        .orderBy(asc(outboundQueue.created_at))
        .limit(1)
        .get();
      return row?.at ?? null;
    },
    summary(): QueueSummary {
      const c = repo.countByStatus();
      return { queued: c.queued, deferred: c.deferred, sending: c.sending, oldestAt: repo.oldestPending() };
    },
    /** Makes the selected queued/deferred rows due now (status queued, attempts kept); the others are refused. */
    retry(sel: QueueSelection): QueueChangeResult {
      const now = Date.now();
      const result = db.transaction((tx) => {
        const where = selectionWhere(tx, sel);
        const rows = tx
          .update(outboundQueue)
          .set({ status: 'queued', next_attempt_at: now })
          .where(and(where, inArray(outboundQueue.status, RETRYABLE_STATUSES)))
          .returning()
          .all();
        const refused =
          'all' in sel
            ? []
            : tx
                .select()
                .from(outboundQueue)
                .where(and(where, ne(outboundQueue.status, 'queued'), ne(outboundQueue.status, 'deferred')))
                .orderBy(asc(outboundQueue.id))
                .all();
        return { affected: rows.length, rows, refused };
      });
      publish(result.rows);
      return result;
    },
    /**
     * Removes the selected rows that are not being sent (no bounce is sent); rows in 'sending' are refused. Also
     * returns the spool files of the removed rows that no remaining queued, deferred or sending row references.
     */
    delete(sel: { ids: number[] } | { queueId: string }): QueueDeleteResult {
      const result = db.transaction((tx) => {
        const where = selectionWhere(tx, sel);
        const rows = tx
          .delete(outboundQueue)
          .where(and(where, ne(outboundQueue.status, 'sending')))
          .returning()
          .all();
        const refused = tx
          .select()
          .from(outboundQueue)
          .where(and(where, eq(outboundQueue.status, 'sending')))
          .orderBy(asc(outboundQueue.id))
          .all();
        const files = [...new Set(rows.map((r) => r.spool_file))];
        const stillUsed = new Set(
          files.length
            ? tx
                .selectDistinct({ f: outboundQueue.spool_file })
                .from(outboundQueue)
                .where(and(inArray(outboundQueue.spool_file, files), inArray(outboundQueue.status, PENDING_STATUSES)))
                .all()
                .map((r) => r.f)
            : [],
        );
        rows.sort((a, b) => a.id - b.id);
        return {
          affected: rows.length,
          rows,
          refused,
          unreferencedSpoolFiles: files.filter((f) => !stillUsed.has(f)),
        };
      });
      publish(result.rows.map((r) => ({ queue_id: r.queue_id, status: 'cancelled' })));
      return result;
    },
    /** Rows (in any status) still referencing a spool file. */
    spoolReferences(spoolFile: string): number {
      return db.select({ n: count() }).from(outboundQueue).where(eq(outboundQueue.spool_file, spoolFile)).get()?.n ?? 0;
    },
  };
  return repo;
}

export type QueueRepo = ReturnType<typeof createQueueRepo>;
