/**
 * Delivery events: the durable history of every step on a message's path. Rules: record() inserts, then
 * publishes on the `delivery` topic (so a dashboard can backfill by id and then subscribe without a gap);
 * prune() drops rows older than the retention.
 */
import { and, asc, eq, gt, inArray, lt } from 'drizzle-orm';
import { type DeliveryEventRow, type DeliveryEventType, deliveryEvents } from '../../schema/db/tables.ts';
import type { Db } from '../db/client.ts';
import type { EventBus } from '../events/bus.ts';
import type { DeliveryEvent } from '../events/topics.ts';

export type NewDeliveryEvent = Omit<DeliveryEvent, 'id' | 'at'> & { at?: number };

export const toDeliveryEvent = (r: DeliveryEventRow): DeliveryEvent => ({
  id: r.id,
  type: r.type,
  at: r.at,
  messageId: r.message_id,
  queueId: r.queue_id,
  sender: r.sender,
  recipients: r.recipients,
  domain: r.domain,
  userEmail: r.user_email,
  remoteIp: r.remote_ip,
  reason: r.reason,
  details: r.details ?? null,
});

/** The row stored for a new delivery event (shared with the delivery transaction in mail.ts). */
export const toEventRow = (e: NewDeliveryEvent, now = Date.now()) => ({
  type: e.type,
  at: e.at ?? now,
  message_id: e.messageId,
  queue_id: e.queueId,
  sender: e.sender,
  recipients: e.recipients,
  domain: e.domain,
  user_email: e.userEmail,
  remote_ip: e.remoteIp,
  reason: e.reason,
  details: e.details,
});

export function createDeliveryEventsRepo(db: Db, bus: EventBus) {
  return {
    record(e: NewDeliveryEvent): DeliveryEvent {
      const row = db.insert(deliveryEvents).values(toEventRow(e)).returning().get();
      const event = toDeliveryEvent(row);
      bus.publish('delivery', event);
      return event;
    },
    list(opts: { after?: number; limit?: number; domain?: string; types?: DeliveryEventType[] } = {}): DeliveryEvent[] {
      const conds = [gt(deliveryEvents.id, opts.after ?? 0)];
      if (opts.domain) conds.push(eq(deliveryEvents.domain, opts.domain));
      if (opts.types?.length) conds.push(inArray(deliveryEvents.type, opts.types));
      return db
        .select()
        .from(deliveryEvents)
        .where(and(...conds))
        .orderBy(asc(deliveryEvents.id))
        .limit(opts.limit ?? 100)
        .all()
        .map(toDeliveryEvent);
    },
    prune(olderThan: number): number {
      return db.delete(deliveryEvents).where(lt(deliveryEvents.at, olderThan)).run().changes;
    },
  };
}
export type DeliveryEventsRepo = ReturnType<typeof createDeliveryEventsRepo>;
