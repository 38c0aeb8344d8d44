/**
 * Alias: an address delivering to local users, other aliases or remote addresses (forwarding).
 * Queries: alias, aliases. Mutations: createAlias, deleteAlias. Rules: an Alias is readable by whoever administers
 * its domain (type scope); access per root field is in access.ts; `aliases` without a domain holds only the
 * caller's domains' aliases.
 */

import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../builder.ts';
import { mapInputErrors } from '../inputPaths.ts';
import { Deleted, MUTATION_ERRORS } from './errors.ts';
import { domainIds } from './user.ts';

export const Alias = builder.drizzleNode('aliases', {
  name: 'Alias',
  authScopes: (a) => ({ address: a.address }),
  id: { column: (a) => a.id },
  fields: (t) => ({
    address: t.exposeString('address'),
    destinations: t.exposeStringList('destinations'),
    status: t.exposeString('status'),
    domain: t.relation('domain'),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.created_at }),
  }),
});

builder.queryFields((t) => ({
  alias: t.drizzleField({
    type: 'aliases',
    nullable: true,
    args: { address: t.arg.string({ required: true }) },
    resolve: (query, _r, { address }, ctx) => {
      const a = ctx.repos.aliases.get(address);
      return a ? ctx.repos.readClient.query.aliases.findFirst(query({ where: { id: a.id } })) : null;
    },
  }),
  aliases: t.drizzleConnection({
    type: 'aliases',
    args: { domain: t.arg.string({ required: false }) },
    totalCount: (_p, { domain }, ctx) => {
      const ids = domainIds(ctx, domain);
      if (ids === null) return ctx.repos.aliases.count({});
      return ids.reduce((n, domainId) => n + ctx.repos.aliases.count({ domainId }), 0);
    },
    resolve: (query, _r, { domain }, ctx) => {
      const ids = domainIds(ctx, domain);
      return ctx.repos.readClient.query.aliases.findMany(
        query({ where: ids ? { domain_id: { in: ids } } : {}, orderBy: { id: 'asc' } }),
      );
    },
  }),
}));

builder.mutationFields((t) => ({
  createAlias: t.field({
    type: Alias,
    errors: { types: MUTATION_ERRORS },
    args: { address: t.arg.string({ required: true }), destinations: t.arg.stringList({ required: true }) },
    resolve: (_r, { address, destinations }, ctx) =>
      mapInputErrors(
        (p) => p,
        () => ctx.accounts.createAlias(ctx.auth.actor, address, destinations),
      ),
  }),
  deleteAlias: t.field({
    type: Deleted,
    errors: { types: MUTATION_ERRORS },
    args: { address: t.arg.string({ required: true }) },
    resolve: (_r, { address }, ctx) =>
      mapInputErrors(
        (p) => p,
        () => {
          const row = ctx.accounts.deleteAlias(ctx.auth.actor, address);
          return { id: encodeGlobalID('Alias', row.id), key: row.address };
        },
      ),
  }),
}));
