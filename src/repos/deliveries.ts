/**
 * Deliveries repository: the index side of an SMTP delivery. Rules: a delivery to several mailboxes commits in one
 * transaction together with its delivery events and its forwarded copies' queue rows (group commit: several
 * deliveries per transaction, one savepoint each), and only then are the events published; a UID is the mailbox's
 * uidnext at insert time and uidnext only grows; every insert bumps the mailbox's highestmodseq; a user's
 * used_bytes changes in the same transaction as the rows it counts. A batch commits either here, on this
 * connection (commit(): blocks the event loop for the commit's fsync), or on a second connection that
 * `connection()` describes (the store's commit thread), whose results come back through committed() to be
 * published. No file system work here: the store makes the files durable before either is called.
 */
import type { Db } from '../db/client.ts';
import { connectionPragmas } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import type { DeliveryEvent } from '../events/topics.ts';
import { toDeliveryEvent } from './deliveryEvents.ts';
import {
  type DeliveryJob,
  deliveryStatements,
  type EncodedJob,
  eventRows,
  type StoredMessage,
  type WriteResult,
} from './deliveryStatements.ts';
import type { DeliveryConnection } from './deliveryTransaction.d.mts';
import { commitBatch, prepareDeliveryStatements } from './deliveryTransaction.mjs';

export type { DeliveryJob, EncodedJob, NewMessage, StoredMessage, WriteResult } from './deliveryStatements.ts';
export type { DeliveryConnection } from './deliveryTransaction.d.mts';

export function createDeliveriesRepo(db: Db, bus: EventBus) {
  // Built on first use (the repositories may be created before the tables exist).
  let statements: ReturnType<typeof deliveryStatements> | undefined;
  let prepared: ReturnType<typeof prepareDeliveryStatements> | undefined;
  const client = db.$client;
  const sql = () => (statements ??= deliveryStatements(db));

  const repo = {
    /** Encodes jobs for the driver at `now` (the same `now` goes to committed()). */
    encode(jobs: readonly DeliveryJob[], now: number): EncodedJob[] {
      const { encode } = sql();
      return jobs.map((j) => encode(j, now));
    },

    /**
     * How a second connection commits deliveries (the database file, its pragmas, the statements' SQL), or null
     * for an in-memory database, which has no second connection (commit() is then the only way).
     */
    connection(): DeliveryConnection | null {
      if (client.memory) return null;
      const busyTimeoutMs = Number(client.pragma('busy_timeout', { simple: true }));
      return {
        path: client.name,
        busyTimeoutMs,
        pragmas: connectionPragmas({
          path: client.name,
          walEnabled: String(client.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal',
          busyTimeoutMs,
        }),
        sql: sql().text,
      };
    },

    /**
     * Group commit on this connection: the jobs in one transaction, each in its own savepoint, so a failing
     * delivery is rolled back alone and reported failed; the others commit. `failed[i]` fails job i without
     * writing (its files could not be put in place). Publishes after the commit.
     */
    commit(jobs: DeliveryJob[], failed: readonly (Error | null | undefined)[] = []): BatchResult[] {
      prepared ??= prepareDeliveryStatements(client, sql().text);
      const now = Date.now();
      return repo.committed(jobs, commitBatch(client, prepared, repo.encode(jobs, now), failed), now);
    },

    /** Maps a committed batch's results (encoded at `now`) and publishes their events, after the commit. */
    committed(jobs: readonly DeliveryJob[], written: WriteResult[], now: number): BatchResult[] {
      return written.map((w, i): BatchResult => {
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
    },
  };
  return repo;
}

export interface DeliveryResult {
  stored: StoredMessage[];
  events: DeliveryEvent[];
}
export type BatchResult = ({ ok: true } & DeliveryResult) | { ok: false; error: Error };

export type DeliveriesRepo = ReturnType<typeof createDeliveriesRepo>;
