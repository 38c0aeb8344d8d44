/**
 * QueueEntry: one recipient of an outbound message. Queries: queue (filtered, a cursor connection by row id),
 * queueSummary. Mutations: retryQueue / deleteQueue (by ids, by queue id, or for retry the whole queue; they
 * report how many rows changed and which were refused), and the single-entry retryQueueEntry / deleteQueueEntry
 * (a refusal is a ConflictError there). Subscription: queueChanged. Rules: retry never touches a row that is
 * being sent, delivered, bounced or cancelled; delete never removes a row that is being sent; an unknown id or
 * queue id is a NotFoundError and changes nothing (the logic lives in repos/queue.ts and queue/admin.ts).
 */

import { decodeGlobalID, encodeGlobalID, resolveCursorConnection } from '@pothos/plugin-relay';
import { queueSelection } from '../../queue/selection.ts';
import { ConflictError } from '../../repos/errors.ts';
import type { QueueChangeResult, QueueFilter as RepoFilter, QueueStatus as Status } from '../../repos/queue.ts';
import { QUEUE_STATUSES, type QueueRow } from '../../repos/rows.ts';
import { builder } from '../builder.ts';
import { mapInputErrors } from '../inputPaths.ts';
import { Deleted, MUTATION_ERRORS } from './errors.ts';

const QueueStatus = builder.enumType('QueueStatus', {
  values: Object.fromEntries(QUEUE_STATUSES.map((s) => [s.toUpperCase(), { value: s }])),
});

const QueueOrigin = builder.enumType('QueueOrigin', {
  description: 'Why a copy is queued: submitted by a user, forwarded to a remote address, or a DSN.',
  values: { SUBMISSION: { value: 'submission' }, FORWARD: { value: 'forward' }, DSN: { value: 'dsn' } },
});

export const QueueEntry = builder.drizzleNode('outboundQueue', {
  name: 'QueueEntry',
  id: { column: (q) => q.id },
  fields: (t) => ({
    rowId: t.field({
      type: 'SafeInt',
      description: 'The numeric row id (what REST and the CLI show).',
      resolve: (q) => q.id,
    }),
    queueId: t.exposeString('queue_id', { description: 'The message (shared by its recipients).' }),
    sender: t.exposeString('sender', { description: 'Envelope sender on the wire (SRS-rewritten when forwarded).' }),
    recipient: t.exposeString('recipient'),
    recipientDomain: t.exposeString('recipient_domain'),
    size: t.field({ type: 'SafeInt', resolve: (q) => q.size }),
    status: t.field({ type: QueueStatus, resolve: (q) => q.status }),
    attempts: t.exposeInt('attempts'),
    nextAttemptAt: t.field({ type: 'DateTime', resolve: (q) => q.next_attempt_at }),
    lastAttemptAt: t.field({ type: 'DateTime', nullable: true, resolve: (q) => q.last_attempt_at }),
    lastError: t.exposeString('last_error', { nullable: true }),
    lastCode: t.exposeInt('last_code', { nullable: true }),
    lastMx: t.exposeString('last_mx', { nullable: true, description: 'The MX host of the last attempt.' }),
    origin: t.field({ type: QueueOrigin, resolve: (q) => q.origin }),
    dsnNotify: t.exposeString('dsn_notify', { nullable: true }),
    dsnRet: t.exposeString('dsn_ret', { nullable: true }),
    dsnEnvid: t.exposeString('dsn_envid', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (q) => q.created_at }),
    expiresAt: t.field({ type: 'DateTime', resolve: (q) => q.expires_at }),
  }),
});

const QueueFilter = builder.inputType('QueueFilter', {
  fields: (t) => ({
    status: t.field({ type: [QueueStatus], required: false, description: 'Any of these statuses.' }),
    domain: t.string({ required: false, description: 'Recipient domain (exact).' }),
    sender: t.string({ required: false, description: 'Part of the envelope sender (case-insensitive).' }),
    recipient: t.string({ required: false, description: 'Part of the recipient address (case-insensitive).' }),
    queueId: t.string({ required: false, description: 'Every recipient of one message.' }),
  }),
});

interface FilterArg {
  status?: readonly string[] | null;
  domain?: string | null;
  sender?: string | null;
  recipient?: string | null;
  queueId?: string | null;
}

const toRepoFilter = (f: FilterArg | null | undefined, status: readonly string[] | null | undefined): RepoFilter => ({
  statuses: ((f?.status?.length ? f.status : status) ?? undefined) as Status[] | undefined,
  domain: f?.domain ?? undefined,
  sender: f?.sender ?? undefined,
  recipient: f?.recipient ?? undefined,
  queueId: f?.queueId ?? undefined,
});

const QueueSummary = builder
  .objectRef<{ queued: number; deferred: number; sending: number; oldestAt: number | null }>('QueueSummary')
  .implement({
    fields: (t) => ({
      queued: t.exposeInt('queued'),
      deferred: t.exposeInt('deferred'),
      sending: t.exposeInt('sending'),
      oldestAt: t.field({
        type: 'DateTime',
        nullable: true,
        description: 'When the oldest queued, deferred or sending entry was queued; null for an empty queue.',
        resolve: (s) => s.oldestAt,
      }),
    }),
  });

const QueueActionResult = builder.objectRef<QueueChangeResult>('QueueActionResult').implement({
  fields: (t) => ({
    affected: t.exposeInt('affected', { description: 'Entries made due now (retry) or removed (delete).' }),
    refused: t.field({
      type: [QueueEntry],
      description: 'Selected entries left alone: for retry those not queued or deferred; for delete those being sent.',
      resolve: (r) => r.refused,
    }),
  }),
});

builder.queryFields((t) => ({
  queue: t.connection(
    {
      type: QueueEntry,
      description: 'Outbound queue entries, oldest first.',
      args: {
        filter: t.arg({ type: QueueFilter, required: false }),
        status: t.arg({
          type: [QueueStatus],
          required: false,
          deprecationReason: 'Use filter.status.',
        }),
      },
      resolve: async (_r, args, ctx) => {
        const filter = toRepoFilter(args.filter as FilterArg | null, args.status as string[] | null);
        const conn = await resolveCursorConnection<QueueRow[]>(
          { args, toCursor: (q) => String(q.id), defaultSize: 20, maxSize: 100 },
          ({ after, before, limit, inverted }) =>
            ctx.repos.queue.list({
              ...filter,
              after: after ? Number(after) || 0 : undefined,
              before: before ? Number(before) || 0 : undefined,
              limit,
              descending: inverted,
            }),
        );
        return { ...conn!, filter };
      },
    },
    {
      fields: (c) => ({
        totalCount: c.int({
          description: 'Entries matching the filter (all pages).',
          resolve: (conn, _a, ctx) => ctx.repos.queue.count((conn as unknown as { filter: RepoFilter }).filter),
        }),
      }),
    },
  ),
  queueSummary: t.field({
    type: QueueSummary,
    description: 'Entries waiting or in progress, and the age of the oldest.',
    resolve: (_r, _a, ctx) => ctx.repos.queue.summary(),
  }),
}));

/** A QueueEntry node id, or its numeric row id; -1 (not a queue entry id) for anything else. */
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

const selectionArgs = (
  t: Parameters<Parameters<typeof builder.mutationFields>[0]>[0],
  what: string,
  withAll: boolean,
) => ({
  ids: t.arg.idList({ required: false, description: `QueueEntry node ids (or numeric row ids) to ${what}.` }),
  queueId: t.arg.string({ required: false, description: `A queue id: ${what} every recipient of that message.` }),
  ...(withAll
    ? { all: t.arg.boolean({ required: false, description: `${what} every queued or deferred entry.` }) }
    : {}),
});

builder.mutationFields((t) => ({
  retryQueue: t.field({
    type: QueueActionResult,
    errors: { types: MUTATION_ERRORS },
    description:
      'Makes queued or deferred entries due now (attempts are kept); entries being sent or already settled are refused. Give exactly one of ids, queueId, all.',
    args: selectionArgs(t, 'retry', true),
    resolve: (_r, args, ctx) =>
      mapInputErrors(
        (p) => p,
        () => {
          const sel = queueSelection(
            { ids: args.ids?.map(decodeId), queueId: args.queueId, all: (args as { all?: boolean | null }).all },
            { allowAll: true },
          );
          return ctx.queue.retry(ctx.auth.actor, sel);
        },
      ),
  }),
  deleteQueue: t.field({
    type: QueueActionResult,
    errors: { types: MUTATION_ERRORS },
    description:
      'Removes entries from the queue (no bounce is sent); entries being sent right now are refused. Give ids or queueId.',
    args: selectionArgs(t, 'delete', false),
    resolve: (_r, args, ctx) =>
      mapInputErrors(
        (p) => p,
        async () => {
          const sel = queueSelection({ ids: args.ids?.map(decodeId), queueId: args.queueId }, { allowAll: false });
          return ctx.queue.delete(ctx.auth.actor, sel as { ids: number[] } | { queueId: string });
        },
      ),
  }),
  retryQueueEntry: t.field({
    type: QueueEntry,
    errors: { types: MUTATION_ERRORS },
    description: 'Makes a queued or deferred entry due now (a ConflictError for any other status).',
    args: { id: t.arg.id({ required: true, description: 'The QueueEntry node id (or its numeric row id).' }) },
    resolve: (_r, { id }, ctx) =>
      mapInputErrors(
        (p) => p,
        () => {
          const r = ctx.queue.retry(ctx.auth.actor, { ids: [decodeId(id)] });
          const refused = r.refused[0];
          if (refused) throw new ConflictError(`queue entry ${refused.id} is ${refused.status} and cannot be retried`);
          return r.rows[0]!;
        },
      ),
  }),
  deleteQueueEntry: t.field({
    type: Deleted,
    errors: { types: MUTATION_ERRORS },
    description: 'Removes an entry from the queue (no bounce is sent; a ConflictError while it is being sent).',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_r, { id }, ctx) =>
      mapInputErrors(
        (p) => p,
        async () => {
          const r = await ctx.queue.delete(ctx.auth.actor, { ids: [decodeId(id)] });
          if (r.refused[0])
            throw new ConflictError(
              `queue entry ${r.refused[0].id} is being delivered right now; try again in a moment`,
            );
          const row = r.rows[0]!;
          return { id: encodeGlobalID('QueueEntry', row.id), key: row.queue_id };
        },
      ),
  }),
}));

const QueueChange = builder
  .objectRef<{ queueId: string | null; status: string | null; droppedEvents: number }>('QueueChange')
  .implement({
    description:
      'A queue change (a message queued, retried, deleted, being sent, delivered, bounced), or (queueId null) word that `droppedEvents` changes were skipped because this subscriber fell behind.',
    fields: (t) => ({
      queueId: t.exposeString('queueId', { nullable: true }),
      status: t.field({
        type: QueueStatus,
        nullable: true,
        description: 'The entries\u2019 new status (CANCELLED: deleted).',
        resolve: (c) => ((QUEUE_STATUSES as readonly string[]).includes(c.status ?? '') ? (c.status as Status) : null),
      }),
      droppedEvents: t.exposeInt('droppedEvents'),
    }),
  });

builder.subscriptionFields((t) => ({
  queueChanged: t.field({
    type: QueueChange,
    description: 'Live queue changes, for one message (queueId) or all; re-read `queue` or `queueSummary` on each.',
    args: { queueId: t.arg.string({ required: false }) },
    subscribe: async function* (_r, args, ctx) {
      const only = args.queueId ?? null;
      const stream = ctx.bus.stream('queue.changed', {
        capacity: ctx.config.api.subscription_buffer,
        filter: (e) => !only || e.queueId === only,
      });
      try {
        for await (const item of stream)
          yield item.kind === 'dropped'
            ? { queueId: null, status: null, droppedEvents: item.count }
            : { queueId: item.payload.queueId, status: item.payload.status, droppedEvents: 0 };
      } finally {
        await stream.return?.();
      }
    },
    resolve: (c) => c,
  }),
}));
