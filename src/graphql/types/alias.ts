/**
 * Alias: an address delivering to local users, other aliases or remote addresses (forwarding).
 * Queries: alias, aliases. Mutations: createAlias, deleteAlias.
 */

import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../builder.ts';
import { mapInputErrors } from '../inputPaths.ts';
import { Deleted, MUTATION_ERRORS } from './errors.ts';

export const Alias = builder.drizzleNode('aliases', {
  name: 'Alias',
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
      const d = domain ? ctx.repos.domains.get(domain) : undefined;
      return domain && !d ? 0 : ctx.repos.aliases.count({ domainId: d?.id });
    },
    resolve: (query, _r, { domain }, ctx) => {
      const d = domain ? ctx.repos.domains.get(domain) : undefined;
      return ctx.repos.readClient.query.aliases.findMany(
        query({ where: domain ? { domain_id: d?.id ?? -1 } : {}, orderBy: { id: 'asc' } }),
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
