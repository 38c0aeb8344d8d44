/**
 * Login blocks (auth/bruteForce.ts, auth/ipAccess.ts). Query: blockedIps (the live entries: automatic blocks,
 * the manual blacklist, the allow list, blocked accounts). Mutations: blockIp (minutes null = permanent),
 * allowIp, unblockIp (lifts any entry; `account:<address>` for an account). Rules: admin-scoped; audited by the
 * service.
 */

import { ACCOUNT_PREFIX } from '../../auth/bruteForce.ts';
import type { BlockedIpRow } from '../../repos/rows.ts';
import { builder } from '../builder.ts';
import { mapInputErrors, under } from '../inputPaths.ts';
import { MUTATION_ERRORS } from './errors.ts';

const BlockKind = builder.enumType('BlockKind', {
  values: {
    AUTO: { value: 'auto', description: 'Set by the brute-force guard.' },
    MANUAL: { value: 'manual', description: 'The blacklist (enforced while auth_ip_blacklist_enabled is on).' },
    ALLOW: { value: 'allow', description: 'Allow-listed: never blocked.' },
  },
});

export const BlockedIp = builder.objectRef<BlockedIpRow>('BlockedIp').implement({
  fields: (t) => ({
    ip: t.string({
      nullable: true,
      description: 'The client address (null for an account block).',
      resolve: (b) => (b.ip.startsWith(ACCOUNT_PREFIX) ? null : b.ip),
    }),
    account: t.string({
      nullable: true,
      description: 'The blocked account, for failures from many addresses.',
      resolve: (b) => (b.ip.startsWith(ACCOUNT_PREFIX) ? b.ip.slice(ACCOUNT_PREFIX.length) : null),
    }),
    key: t.exposeString('ip', { description: 'What unblockIp takes to lift it.' }),
    kind: t.field({ type: BlockKind, resolve: (b) => b.kind }),
    reason: t.exposeString('reason'),
    blockedUntil: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'null = permanent.',
      resolve: (b) => b.blocked_until,
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (b) => b.created_at }),
  }),
});

builder.queryFields((t) => ({
  blockedIps: t.field({
    type: [BlockedIp],
    description: 'Live login blocks and allow-list entries, oldest first.',
    resolve: (_r, _a, ctx) => ctx.ipAccess.list(),
  }),
}));

builder.mutationFields((t) => ({
  blockIp: t.field({
    type: BlockedIp,
    errors: { types: MUTATION_ERRORS },
    description: 'Blocks logins from an IP for `minutes` (null: permanently, the blacklist).',
    args: {
      ip: t.arg.string({ required: true }),
      minutes: t.arg.int({ required: false }),
      reason: t.arg.string({ required: false }),
    },
    resolve: (_r, { ip, minutes, reason }, ctx) =>
      mapInputErrors(under(), () => ctx.ipAccess.block(ctx.auth.actor, ip, minutes ?? null, reason ?? '')),
  }),
  allowIp: t.field({
    type: BlockedIp,
    errors: { types: MUTATION_ERRORS },
    description: 'Allow-lists an IP: its failed logins are never counted or blocked.',
    args: { ip: t.arg.string({ required: true }), reason: t.arg.string({ required: false }) },
    resolve: (_r, { ip, reason }, ctx) =>
      mapInputErrors(under(), () => ctx.ipAccess.allow(ctx.auth.actor, ip, reason ?? '')),
  }),
  unblockIp: t.field({
    type: BlockedIp,
    errors: { types: MUTATION_ERRORS },
    description: 'Lifts a block or allow-list entry (an IP, or `account:<address>`); returns what it was.',
    args: { ip: t.arg.string({ required: true }) },
    resolve: (_r, { ip }, ctx) => mapInputErrors(under(), () => ctx.ipAccess.unblock(ctx.auth.actor, ip)),
  }),
}));
