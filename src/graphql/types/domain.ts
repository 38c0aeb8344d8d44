/**
 * Domain: a hosted domain (or the `_default` template) with its settings as typed sections.
 * Queries: domain, domains, defaultTemplate. Mutations: createDomain, updateDomain, updateDomainSecurity,
 * updateDefaultTemplate, deleteDomain, rotateDkimKey. Subscription: configChanged.
 * Rules: a Domain's fields but its name are readable only by whoever administers it (type scope); access per root
 * field is in access.ts; a domain administrator may change its domains' policies, catch-all, SPF record and
 * default quota (at most maxMailboxSize), not ADMIN_ONLY_SETTINGS (FORBIDDEN); listings and configChanged hold
 * only the caller's domains.
 */

import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { ForbiddenError } from '../../repos/errors.ts';
import { TEMPLATE_DOMAIN } from '../../repos/names.ts';
import { manages } from '../access.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { mapInputErrors, under } from '../inputPaths.ts';
import {
  columnToInputPath,
  DkimKeyTypeEnum,
  DomainSecurityInput,
  DomainSettingsInput,
  DomainStatusEnum,
  SECTION_TYPES,
  toColumnPatch,
} from './domainSettings.ts';
import { Deleted, MUTATION_ERRORS } from './errors.ts';

const domainName = z.string().min(1, { error: 'must not be empty' }).max(253, { error: 'is too long' });

export const Domain = builder.drizzleNode('domains', {
  name: 'Domain',
  authScopes: (d) => ({ domain: d.name }),
  id: { column: (d) => d.id },
  fields: (t) => ({
    name: t.exposeString('name', {
      description: 'ASCII (punycode) name; `_default` for the template.',
      skipTypeScopes: true,
    }),
    isTemplate: t.boolean({ resolve: (d) => d.name === TEMPLATE_DOMAIN }),
    status: t.field({ type: DomainStatusEnum, resolve: (d) => d.status }),
    maxUsers: t.exposeInt('max_users', { description: '0 = unlimited.' }),
    maxMailboxSize: t.field({
      type: 'SafeInt',
      description: 'Bytes; 0 = unlimited.',
      resolve: (d) => d.max_mailbox_size,
    }),
    defaultQuota: t.field({
      type: 'SafeInt',
      description: 'Bytes for users without their own quota; 0 = unlimited.',
      resolve: (d) => d.default_quota,
    }),
    catchallEmail: t.exposeString('catchall_email', { nullable: true }),
    backupMx: t.exposeBoolean('backup_mx'),
    spfRecord: t.exposeString('spf_record', { nullable: true }),
    ...Object.fromEntries(
      SECTION_TYPES.map(({ section, output }) => [section.graphql, t.field({ type: output, resolve: (d) => d })]),
    ),
    users: t.relatedConnection('users', { totalCount: true, query: { orderBy: { id: 'asc' } } }),
    aliases: t.relatedConnection('aliases', { totalCount: true, query: { orderBy: { id: 'asc' } } }),
    createdAt: t.field({ type: 'DateTime', resolve: (d) => d.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (d) => d.updated_at }),
  }),
});

const DomainFilter = builder.inputType('DomainFilter', {
  fields: (t) => ({
    status: t.field({ type: DomainStatusEnum, required: false }),
    nameContains: t.string({ required: false }),
  }),
});

/** LIKE has no portable escape clause here: wildcard characters in a search are dropped. */
const likeEscape = (s: string) => s.toLowerCase().replace(/[%_\\]/g, '');

const domainWhere = (filter: { status?: string | null; nameContains?: string | null } | null | undefined) => ({
  name: { ne: TEMPLATE_DOMAIN, ...(filter?.nameContains ? { like: `%${likeEscape(filter.nameContains)}%` } : {}) },
  ...(filter?.status ? { status: filter.status as 'active' | 'disabled' } : {}),
});

builder.queryFields((t) => ({
  domain: t.drizzleField({
    type: 'domains',
    nullable: true,
    args: { name: t.arg.string({ required: true }) },
    resolve: (query, _root, { name }, ctx) => {
      const row = ctx.repos.domains.get(name);
      return row ? ctx.repos.readClient.query.domains.findFirst(query({ where: { id: row.id } })) : null;
    },
  }),
  defaultTemplate: t.drizzleField({
    type: 'domains',
    resolve: async (query, _root, _args, ctx) =>
      (await ctx.repos.readClient.query.domains.findFirst(query({ where: { name: TEMPLATE_DOMAIN } })))!,
  }),
  domains: t.drizzleConnection({
    type: 'domains',
    description: 'Hosted domains (for a domain administrator, those it administers).',
    args: { filter: t.arg({ type: DomainFilter, required: false }) },
    totalCount: (_p, { filter }, ctx) => {
      const status = (filter?.status as string | null) ?? undefined;
      const nameContains = filter?.nameContains ?? undefined;
      if (ctx.auth.admin) return ctx.repos.domains.count({ status, nameContains });
      return [...ctx.auth.domains]
        .map((n) => ctx.repos.domains.get(n))
        .filter(
          (d) => d && (!status || d.status === status) && (!nameContains || d.name.includes(likeEscape(nameContains))),
        ).length;
    },
    resolve: (query, _root, { filter }, ctx) => {
      const where = domainWhere(filter as never);
      return ctx.repos.readClient.query.domains.findMany(
        query({
          where: ctx.auth.admin ? where : { ...where, name: { ...where.name, in: [...ctx.auth.domains] } },
          orderBy: { id: 'asc' },
        }),
      );
    },
  }),
}));

/** Settings only an admin may change (the operator's limits), as input paths; everything else is the domain's. */
export const ADMIN_ONLY_SETTINGS = ['status', 'maxUsers', 'maxMailboxSize', 'backupMx', 'rateLimits'];

/** updateDomain and updateDomainSecurity: a partial settings input, deep-merged into the domain (or template). */
const updateSettings = (ctx: GraphQLContext, name: string, input: object) =>
  mapInputErrors(
    (p) => ['input', ...columnToInputPath(p)],
    () => {
      const patch = toColumnPatch(input as never);
      if (!ctx.auth.admin) {
        const given = Object.entries(input)
          .filter(([k, v]) => v !== undefined && ADMIN_ONLY_SETTINGS.includes(k))
          .map(([k]) => k);
        if (given.length) throw new ForbiddenError(`only an admin can change ${given.join(', ')} of a domain`);
        const quota = patch.default_quota as number | null | undefined;
        const max = ctx.repos.domains.get(name)?.max_mailbox_size ?? 0;
        if (typeof quota === 'number' && max > 0 && (quota === 0 || quota > max))
          throw new ForbiddenError(`only an admin can set a default quota above maxMailboxSize (${max} bytes)`);
      }
      return ctx.domains.update(ctx.auth.actor, name, patch);
    },
  );

builder.mutationFields((t) => ({
  createDomain: t.field({
    type: Domain,
    errors: { types: MUTATION_ERRORS },
    description: 'Creates a domain, by default from the `_default` template, and generates its DKIM key pair.',
    args: {
      name: t.arg.string({ required: true, validate: domainName }),
      useDefaultTemplate: t.arg.boolean({ required: false, defaultValue: true }),
      overrides: t.arg({ type: DomainSettingsInput, required: false }),
    },
    resolve: (_root, args, ctx) =>
      mapInputErrors(
        (p) => (p[0] === 'name' ? ['name'] : ['overrides', ...columnToInputPath(p)]),
        () =>
          ctx.domains.create(
            ctx.auth.actor,
            args.name,
            args.useDefaultTemplate ?? true,
            toColumnPatch(args.overrides as never),
          ),
      ),
  }),
  updateDomain: t.field({
    type: Domain,
    errors: { types: MUTATION_ERRORS },
    description: 'Changes general fields and/or security sections; omitted fields keep their values.',
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: DomainSettingsInput, required: true }) },
    resolve: (_root, args, ctx) => updateSettings(ctx, args.name, args.input),
  }),
  updateDomainSecurity: t.field({
    type: Domain,
    errors: { types: MUTATION_ERRORS },
    description: 'Deep-merges partial security settings into the domain (or `_default`).',
    args: { name: t.arg.string({ required: true }), input: t.arg({ type: DomainSecurityInput, required: true }) },
    resolve: (_root, args, ctx) => updateSettings(ctx, args.name, args.input),
  }),
  updateDefaultTemplate: t.field({
    type: Domain,
    errors: { types: MUTATION_ERRORS },
    description: 'Changes the `_default` template that new domains copy.',
    args: { input: t.arg({ type: DomainSettingsInput, required: true }) },
    resolve: (_root, args, ctx) =>
      mapInputErrors(
        (p) => ['input', ...columnToInputPath(p)],
        () => ctx.domains.update(ctx.auth.actor, TEMPLATE_DOMAIN, toColumnPatch(args.input as never)),
      ),
  }),
  deleteDomain: t.field({
    type: Deleted,
    errors: { types: MUTATION_ERRORS },
    description: 'Deletes a domain. Refused while it has users unless `force` (which deletes them and their mail).',
    args: { name: t.arg.string({ required: true }), force: t.arg.boolean({ required: false, defaultValue: false }) },
    resolve: (_root, args, ctx) =>
      mapInputErrors(under(), () => {
        const row = ctx.domains.delete(ctx.auth.actor, args.name, args.force ?? false);
        return { id: encodeGlobalID('Domain', row.id), key: row.name };
      }),
  }),
  rotateDkimKey: t.field({
    type: Domain,
    errors: { types: MUTATION_ERRORS },
    description: 'Generates a new DKIM key pair, optionally with a new type, size or selector.',
    args: {
      domain: t.arg.string({ required: true }),
      keyType: t.arg({ type: DkimKeyTypeEnum, required: false }),
      keySize: t.arg.int({ required: false }),
      selector: t.arg.string({ required: false }),
    },
    resolve: (_root, args, ctx) =>
      mapInputErrors(
        (p) => [
          ({ dkim_key_type: 'keyType', dkim_key_size: 'keySize', dkim_selector: 'selector' } as Record<string, string>)[
            String(p[0])
          ] ?? String(p[0]),
        ],
        () =>
          ctx.domains.rotateDkimKey(ctx.auth.actor, args.domain, {
            keyType: (args.keyType as 'rsa' | 'ed25519' | null) ?? undefined,
            keySize: args.keySize ?? undefined,
            selector: args.selector ?? undefined,
          }),
      ),
  }),
}));

const ConfigChange = builder
  .objectRef<{ domain: string; action: string; fields: string[]; at: number }>('ConfigChange')
  .implement({
    fields: (t) => ({
      domain: t.exposeString('domain'),
      action: t.exposeString('action', { description: 'created, updated or deleted' }),
      fields: t.exposeStringList('fields', { description: 'Changed settings (column names).' }),
      at: t.field({ type: 'DateTime', resolve: (c) => c.at }),
    }),
  });

builder.subscriptionFields((t) => ({
  configChanged: t.field({
    type: ConfigChange,
    description: 'Domain settings changes, for one domain (or `_default`) or all.',
    args: { domain: t.arg.string({ required: false }) },
    subscribe: async function* (_root, args, ctx) {
      const only = args.domain ? (ctx.repos.domains.get(args.domain)?.name ?? args.domain.toLowerCase()) : null;
      const stream = ctx.bus.stream('domain.changed', {
        filter: (e) => (!only || e.name === only) && manages(ctx.auth, e.name),
      });
      try {
        for await (const item of stream)
          if (item.kind === 'event')
            yield {
              domain: item.payload.name,
              action: item.payload.action,
              fields: item.payload.fields,
              at: Date.now(),
            };
      } finally {
        await stream.return?.();
      }
    },
    resolve: (c) => c,
  }),
}));
