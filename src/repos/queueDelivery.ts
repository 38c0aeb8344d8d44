/**
 * The outbound queue as the delivery worker sees it (src/queue/worker.ts); the management side (list, retry,
 * delete) is queue.ts. Rules: a row is claimed (status `sending`) before its message is sent and settled
 * (delivered / deferred / bounced) right after the remote server's reply, one transaction per outcome that is
 * not fsync'd (a row lost to a power cut is only sent again; a process crash keeps it); rows left `sending` by a
 * crash are queued again at start (at-least-once: a message whose remote 250 was not yet recorded is resent);
 * writes commit, then publish `queue.changed`.
 */
import { and, asc, eq, inArray, lte, min, sql } from 'drizzle-orm';
import { deliveryEvents, outboundQueue, type QueueRow } from '../../schema/db/delivery.ts';
import { type Db, withoutFsync } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import type { DeliveryEvent } from '../events/topics.ts';
import { type NewDeliveryEvent, toDeliveryEvent, toEventRow } from './deliveryEvents.ts';

const PENDING = ['queued', 'deferred', 'sending'] as const;

/** The result of one attempt for one row. */
export type Settlement =
  | { id: number; status: 'delivered'; code: number | null; reply: string | null; mx: string | null }
  | {
      id: number;
      status: 'deferred';
      code: number | null;
      reply: string | null;
      mx: string | null;
      nextAttemptAt: number;
      /** Counts as an attempt (false when the worker only postponed it, e.g. a destination at its limit). */
      attempted: boolean;
      delayNotified?: boolean;
    }
  | { id: number; status: 'bounced'; code: number | null; reply: string | null; mx: string | null };

export function createQueueDeliveryRepo(db: Db, bus: EventBus) {
  const repo = {
    /** At start: rows a crash left `sending` are queued again (due now). Returns how many. */
    recoverInterrupted(now = Date.now()): number {
      const rows = db
        .update(outboundQueue)
        .set({ status: 'queued', next_attempt_at: now })
        .where(eq(outboundQueue.status, 'sending'))
        .returning({ queue_id: outboundQueue.queue_id })
        .all();
      for (const r of new Set(rows.map((r) => r.queue_id)))
        bus.publish('queue.changed', { queueId: r, status: 'queued' });
      return rows.length;
    },

    /** Rows due now, oldest due first. */
    due(now: number, limit: number): QueueRow[] {
      return db
        .select()
        .from(outboundQueue)
        .where(and(inArray(outboundQueue.status, ['queued', 'deferred']), lte(outboundQueue.next_attempt_at, now)))
        .orderBy(asc(outboundQueue.next_attempt_at), asc(outboundQueue.id))
        .limit(limit)
        .all();
    },

    /** When the next row falls due (null: nothing waits). */
    nextDueAt(): number | null {
      return (
        db
          .select({ at: min(outboundQueue.next_attempt_at) })
          .from(outboundQueue)
          .where(inArray(outboundQueue.status, ['queued', 'deferred']))
          .get()?.at ?? null
      );
    },

    /** Marks the rows `sending`; returns the ids it claimed (a row retried, deleted or claimed meanwhile is not). */
    claim(ids: number[]): Set<number> {
      if (!ids.length) return new Set();
      const rows = withoutFsync(db, () =>
        db
          .update(outboundQueue)
          .set({ status: 'sending' })
          .where(and(inArray(outboundQueue.id, ids), inArray(outboundQueue.status, ['queued', 'deferred'])))
          .returning({ id: outboundQueue.id })
          .all(),
      );
      return new Set(rows.map((r) => r.id));
    },

    /** Records outcomes and their delivery events (one transaction), then publishes the events. */
    settle(queueId: string, outcomes: Settlement[], events: NewDeliveryEvent[] = [], now = Date.now()): void {
      if (!outcomes.length && !events.length) return;
      const recorded: DeliveryEvent[] = [];
      withoutFsync(db, () =>
        db.transaction((tx) => {
          for (const e of events)
            recorded.push(toDeliveryEvent(tx.insert(deliveryEvents).values(toEventRow(e, now)).returning().get()));
          for (const o of outcomes) {
            const common = {
              status: o.status,
              last_code: o.code,
              last_error: o.status === 'delivered' ? null : o.reply,
              last_mx: o.mx,
            };
            if (o.status === 'deferred') {
              tx.update(outboundQueue)
                .set({
                  ...common,
                  next_attempt_at: o.nextAttemptAt,
                  ...(o.attempted && { attempts: sql`${outboundQueue.attempts} + 1`, last_attempt_at: now }),
                  ...(o.delayNotified && { delay_notified_at: now }),
                })
                .where(eq(outboundQueue.id, o.id))
                .run();
            } else {
              tx.update(outboundQueue)
                .set({ ...common, attempts: sql`${outboundQueue.attempts} + 1`, last_attempt_at: now })
                .where(eq(outboundQueue.id, o.id))
                .run();
            }
          }
        }),
      );
      for (const e of recorded) bus.publish('delivery', e);
      const statuses = new Set(outcomes.map((o) => o.status));
      for (const status of statuses) bus.publish('queue.changed', { queueId, status });
    },

    /** Rows still waiting to be sent (or being sent) from this spool file: 0 means the file can go. */
    pendingFor(spoolFile: string): number {
      return (
        db
          .select({ n: sql<number>`count(*)` })
          .from(outboundQueue)
          .where(and(eq(outboundQueue.spool_file, spoolFile), inArray(outboundQueue.status, [...PENDING])))
          .get()?.n ?? 0
      );
    },
  };
  return repo;
}

export type QueueDeliveryRepo = ReturnType<typeof createQueueDeliveryRepo>;
