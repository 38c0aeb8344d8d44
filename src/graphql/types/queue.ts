/**
 * QueueEntry: one recipient of an outbound message. Query: queue. Mutations: retryQueueEntry (due now),
 * deleteQueueEntry (drops it; refused while it is being delivered).
 */

import { decodeGlobalID, encodeGlobalID } from '@pothos/plugin-relay';
import { QUEUE_STATUSES } from '../../repos/rows.ts';
import { builder } from '../builder.ts';
import { mapInputErrors } from '../inputPaths.ts';
import { Deleted, MUTATION_ERRORS } from './errors.ts';

const QueueStatus = builder.enumType('QueueStatus', {
  values: Object.fromEntries(QUEUE_STATUSES.map((s) => [s.toUpperCase(), { value: s }])),
});

export const QueueEntry = builder.drizzleNode('outboundQueue', {
  name: 'QueueEntry',
  id: { column: (q) => q.id },
  fields: (t) => ({
    queueId: t.exposeString('queue_id'),
    sender: t.exposeString('sender'),
    recipient: t.exposeString('recipient'),
    recipientDomain: t.exposeString('recipient_domain'),
    size: t.field({ type: 'SafeInt', resolve: (q) => q.size }),
    status: t.field({ type: QueueStatus, resolve: (q) => q.status }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.field({ type: 'DateTime', resolve: (q) => q.next_attempt_at }),
    lastAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (q) => q.last_attempt_at }),
    lastError: t.exposeString('last_error', { nullable: true }),
    lastCode: t.exposeInt('last_code', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (q) => q.created_at }),
    expiresAt: t.field({ type: 'DateTime', resolve: (q) => q.expires_at }),
  }),
});

builder.queryFields((t) => ({
  queue: t.drizzleConnection({
    type: 'outboundQueue',
    args: { status: t.arg({ type: [QueueStatus], required: false }) },
    totalCount: (_p, { status }, ctx) => ctx.repos.queue.count({ statuses: (status as never) ?? undefined }),
    resolve: (query, _r, { status }, ctx) =>
      ctx.repos.readClient.query.outboundQueue.findMany(
        query({ where: status?.length ? { status: { in: status as never } } : {}, orderBy: { id: 'asc' } }),
      ),
  }),
}));

/** A QueueEntry node id, or its numeric row id; -1 (not found) for anything else. */
const decodeId = (id: string | number): number => {
  const raw = Number(id);
  if (Number.isSafeInteger(raw) && raw > 0) return raw;
  try {
    const g = decodeGlobalID(String(id));
    const n = Number(g.id);
    return g.typename === 'QueueEntry' && Number.isSafeInteger(n) ? n : -1;
  } catch {
    return -1;
  }
};

builder.mutationFields((t) => ({
  retryQueueEntry: t.field({
    type: QueueEntry,
    errors: { types: MUTATION_ERRORS },
    description: 'Makes a queued or deferred entry due now.',
    args: { id: t.arg.id({ required: true, description: 'The QueueEntry node id (or its numeric row id).' }) },
    resolve: (_r, { id }, ctx) =>
      mapInputErrors(
        (p) => p,
        () => {
          const row = ctx.repos.queue.retry(decodeId(id));
          ctx.repos.audit.record(ctx.auth.actor, 'queue.retry', 'queue', row.queue_id, { recipient: row.recipient });
          return row;
        },
      ),
  }),
  deleteQueueEntry: t.field({
    type: Deleted,
    errors: { types: MUTATION_ERRORS },
    description: 'Removes an entry from the queue (no bounce is sent).',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) =>
      mapInputErrors(
        (p) => p,
        () => {
          const row = ctx.repos.queue.delete(decodeId(id));
          ctx.repos.audit.record(ctx.auth.actor, 'queue.delete', 'queue', row.queue_id, { recipient: row.recipient });
          return { id: encodeGlobalID('QueueEntry', row.id), key: row.queue_id };
        },
      ),
  }),
}));
