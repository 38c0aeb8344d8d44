/**
 * DeliveryEvent: one step on a message's path. Query: deliveryEvents (stored history, a cursor connection
 * ordered by id). Subscription: deliveryEvents (live). Rules: a dashboard backfills with the query, then
 * subscribes with `afterId` = the last id it saw, so nothing falls in between; each subscriber has a bounded
 * buffer and, when it falls behind, receives a notice with `droppedEvents` instead of slowing mail down.
 * Who sees what (viewOf; access.ts checks the filter): an admin every event; a domain administrator the events
 * of its domains; a user those of its own address (as sender, submitting user or recipient). Unless the event
 * is mail from the caller (sender or submitting user its own or in its domains), recipients outside the caller's
 * reach are left out (they may be Bcc recipients of the same message), with their per-recipient details.
 */
import { resolveCursorConnection } from '@pothos/plugin-relay';
import { canManageUser, type Principal } from '../../auth/principal.ts';
import type { DeliveryEvent as DeliveryEventPayload } from '../../events/topics.ts';
import { DELIVERY_EVENT_TYPES } from '../../repos/rows.ts';
import { manages } from '../access.ts';
import { builder } from '../builder.ts';

const DeliveryEventType = builder.enumType('DeliveryEventType', { values: DELIVERY_EVENT_TYPES });

const JsonString = (v: unknown) => (v === null || v === undefined ? null : JSON.stringify(v));

export const DeliveryEvent = builder.objectRef<DeliveryEventPayload>('DeliveryEvent').implement({
  fields: (t) => ({
    id: t.field({ type: 'SafeInt', resolve: (e) => e.id }),
    type: t.field({ type: DeliveryEventType, resolve: (e) => e.type }),
    at: t.field({ type: 'DateTime', resolve: (e) => e.at }),
    messageId: t.exposeString('messageId', { nullable: true }),
    queueId: t.exposeString('queueId', { nullable: true }),
    sender: t.exposeString('sender', { nullable: true }),
    recipients: t.exposeStringList('recipients'),
    domain: t.exposeString('domain', { nullable: true }),
    user: t.exposeString('userEmail', { nullable: true }),
    remoteIp: t.exposeString('remoteIp', { nullable: true }),
    reason: t.exposeString('reason', {
      nullable: true,
      description: 'For REJECTED: spf, dmarc, virus, spam, rate_limit, greylist, unknown_user, relay_denied, size, ...',
    }),
    details: t.string({
      nullable: true,
      description: 'Verdict details as a JSON object.',
      resolve: (e) => JsonString(e.details),
    }),
  }),
});

const DeliveryEventFilter = builder.inputType('DeliveryEventFilter', {
  fields: (t) => ({
    domain: t.string({ required: false }),
    user: t.string({ required: false }),
    types: t.field({ type: [DeliveryEventType], required: false }),
  }),
});

interface Filter {
  domain?: string | null;
  user?: string | null;
  types?: readonly string[] | null;
}

const matches = (f: Filter | null | undefined) => (e: DeliveryEventPayload) =>
  (!f?.domain || e.domain === f.domain.toLowerCase()) &&
  (!f?.user || e.userEmail === f.user.toLowerCase() || e.recipients.includes(f.user.toLowerCase())) &&
  (!f?.types?.length || f.types.includes(e.type));

/** The event as the caller may see it, or null when it is none of its business (see the rules above). */
export function viewOf(p: Principal, e: DeliveryEventPayload): DeliveryEventPayload | null {
  if (p.admin) return e;
  const setup = p.totpSetupRequired;
  const mine = (a: string | null) => !!a && ((!setup && canManageUser(p, a)) || a.toLowerCase() === p.user?.email);
  const fromMine = mine(e.userEmail) || mine(e.sender);
  if (!fromMine && !(e.domain && manages(p, e.domain)) && !e.recipients.some(mine)) return null;
  if (fromMine || e.recipients.every(mine)) return e;
  const recipients = e.recipients.filter(mine);
  const replies = e.details?.replies;
  const details =
    replies && typeof replies === 'object'
      ? {
          ...e.details,
          replies: Object.fromEntries(Object.entries(replies).filter(([r]) => recipients.includes(r))),
        }
      : e.details;
  return { ...e, recipients, details };
}

const DeliveryEventNotice = builder
  .objectRef<{ event: DeliveryEventPayload | null; droppedEvents: number }>('DeliveryEventNotice')
  .implement({
    description:
      'Either an event, or (event null) word that `droppedEvents` events were skipped because this subscriber fell behind.',
    fields: (t) => ({
      event: t.field({ type: DeliveryEvent, nullable: true, resolve: (n) => n.event }),
      droppedEvents: t.exposeInt('droppedEvents'),
    }),
  });

builder.queryFields((t) => ({
  deliveryEvents: t.connection({
    type: DeliveryEvent,
    args: { filter: t.arg({ type: DeliveryEventFilter, required: false }) },
    resolve: (_r, args, ctx) =>
      resolveCursorConnection<DeliveryEventPayload[]>(
        { args, toCursor: (e: DeliveryEventPayload) => String(e.id), defaultSize: 20, maxSize: 100 },
        ({ after, limit, inverted, before }) => {
          const f = args.filter as Filter | null | undefined;
          const all = ctx.repos.deliveryEvents.list({
            after: after ? Number(after) : 0,
            limit: 100_000,
            domain: f?.domain?.toLowerCase(),
            types: (f?.types as never) ?? undefined,
          });
          const rows = all
            .filter(matches(f))
            .filter((e) => !before || e.id < Number(before))
            .flatMap((e) => viewOf(ctx.auth, e) ?? []);
          return inverted ? rows.slice(-limit).reverse() : rows.slice(0, limit);
        },
      ),
  }),
}));

builder.subscriptionFields((t) => ({
  deliveryEvents: t.field({
    type: DeliveryEventNotice,
    description:
      'Live delivery events. With `afterId`, stored events after that id are sent first (no gap after a backfill).',
    args: {
      filter: t.arg({ type: DeliveryEventFilter, required: false }),
      afterId: t.arg({ type: 'SafeInt', required: false }),
    },
    subscribe: async function* (_r, args, ctx) {
      const f = args.filter as Filter | null | undefined;
      const visible = (e: DeliveryEventPayload) => matches(f)(e) && viewOf(ctx.auth, e) !== null;
      const stream = ctx.bus.stream('delivery', { capacity: ctx.config.api.subscription_buffer, filter: visible });
      try {
        let lastId = args.afterId ?? 0;
        if (args.afterId !== null && args.afterId !== undefined) {
          for (;;) {
            const page = ctx.repos.deliveryEvents.list({ after: lastId, limit: 500 });
            for (const e of page) if (visible(e)) yield { event: viewOf(ctx.auth, e), droppedEvents: 0 };
            if (page.length > 0) lastId = page[page.length - 1]!.id;
            if (page.length < 500) break;
          }
        }
        for await (const item of stream) {
          if (item.kind === 'dropped') yield { event: null, droppedEvents: item.count };
          else if (item.payload.id > lastId) yield { event: viewOf(ctx.auth, item.payload), droppedEvents: 0 };
        }
      } finally {
        await stream.return?.();
      }
    },
    resolve: (n) => n,
  }),
}));
