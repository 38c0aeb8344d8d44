/**
 * User: a mailbox owner. Queries: user, users. Mutations: createUser, updateUser, setUserPassword,
 * changePassword, deleteUser. Rules: the password hash and TOTP secret are never exposed; quota null means the
 * domain default; setUserPassword sets a password outright (an administrator of the domain), changePassword needs
 * the current one (an AuthenticationError otherwise) and keeps the caller's own session; a User's fields are
 * readable by the user and whoever administers its domain (type scope; `login` grants its own user); access per
 * root field is in access.ts; a user may change its own full name only, and a domain administrator may not give
 * a quota above the domain's maxMailboxSize (FORBIDDEN).
 */

import { encodeGlobalID } from '@pothos/plugin-relay';
import { z } from 'zod';
import { PASSWORD_MAX, PASSWORD_MIN } from '../../auth/passwordPolicy.ts';
import { canManageUser } from '../../auth/principal.ts';
import { ForbiddenError } from '../../repos/errors.ts';
import { effectiveQuota } from '../../repos/users.ts';
import { builder } from '../builder.ts';
import type { GraphQLContext } from '../context.ts';
import { mapInputErrors, under } from '../inputPaths.ts';
import { CREDENTIAL_MUTATION_ERRORS, Deleted, MUTATION_ERRORS } from './errors.ts';

const UserStatus = builder.enumType('UserStatus', {
  values: { ACTIVE: { value: 'active' }, DISABLED: { value: 'disabled' }, SUSPENDED: { value: 'suspended' } },
});

export const User = builder.drizzleNode('users', {
  name: 'User',
  authScopes: (u) => ({ read: u.email, $granted: 'login' }),
  id: { column: (u) => u.id },
  fields: (t) => ({
    email: t.exposeString('email'),
    localPart: t.exposeString('local_part'),
    fullName: t.exposeString('full_name', { nullable: true }),
    status: t.field({ type: UserStatus, resolve: (u) => u.status }),
    quota: t.field({
      type: 'SafeInt',
      nullable: true,
      description: 'Own quota in bytes; null = the domain default; 0 = unlimited.',
      resolve: (u) => u.quota,
    }),
    effectiveQuota: t.field({
      type: 'SafeInt',
      description: 'The quota that applies, in bytes (0 = unlimited).',
      select: { with: { domain: { columns: { default_quota: true } } } },
      resolve: (u) => effectiveQuota(u.quota, u.domain),
    }),
    usedBytes: t.field({ type: 'SafeInt', description: 'Bytes stored.', resolve: (u) => u.used_bytes }),
    totpEnabled: t.exposeBoolean('totp_enabled'),
    lastLoginAt: t.field({ type: 'DateTime', nullable: true, resolve: (u) => u.last_login_at }),
    domain: t.relation('domain'),
    mailboxes: t.relation('mailboxes', { query: { orderBy: { id: 'asc' } } }),
    aliases: t.stringList({
      description:
        'Alias addresses that deliver to this user (to a domain administrator, those of the domains it administers).',
      resolve: (u, _a, ctx) =>
        ctx.repos.aliases
          .list({ limit: 10_000 })
          .filter((a) => a.destinations.includes(u.email))
          .map((a) => a.address)
          .filter((a) => ctx.auth.admin || ctx.auth.user?.id === u.id || canManageUser(ctx.auth, a)),
    }),
    createdAt: t.field({ type: 'DateTime', resolve: (u) => u.created_at }),
    updatedAt: t.field({ type: 'DateTime', resolve: (u) => u.updated_at }),
  }),
});

const UserFilter = builder.inputType('UserFilter', {
  fields: (t) => ({ domain: t.string({ required: false }), status: t.field({ type: UserStatus, required: false }) }),
});

const CreateUserInput = builder.inputType('CreateUserInput', {
  fields: (t) => ({
    email: t.string({ required: true }),
    password: t.string({ required: true }),
    fullName: t.string({ required: false }),
    quota: t.field({
      type: 'SafeInt',
      required: false,
      description: 'Bytes; omit for the domain default; 0 = unlimited.',
    }),
    status: t.field({ type: UserStatus, required: false }),
  }),
});

const UpdateUserInput = builder.inputType('UpdateUserInput', {
  fields: (t) => ({
    fullName: t.string({ required: false }),
    quota: t.field({ type: 'SafeInt', required: false }),
    status: t.field({ type: UserStatus, required: false }),
  }),
});

builder.queryFields((t) => ({
  user: t.drizzleField({
    type: 'users',
    nullable: true,
    args: { email: t.arg.string({ required: true }) },
    resolve: (query, _r, { email }, ctx) => {
      const u = ctx.repos.users.get(email);
      return u ? ctx.repos.readClient.query.users.findFirst(query({ where: { id: u.id } })) : null;
    },
  }),
  users: t.drizzleConnection({
    type: 'users',
    description: 'Users, of one domain or (for a domain administrator) of the domains it administers.',
    args: { filter: t.arg({ type: UserFilter, required: false }) },
    totalCount: (_p, { filter }, ctx) => {
      const status = (filter?.status as string | null) ?? undefined;
      const ids = domainIds(ctx, filter?.domain);
      if (ids === null) return ctx.repos.users.count({ status });
      return ids.reduce((n, domainId) => n + ctx.repos.users.count({ domainId, status }), 0);
    },
    resolve: (query, _r, { filter }, ctx) => {
      const ids = domainIds(ctx, filter?.domain);
      return ctx.repos.readClient.query.users.findMany(
        query({
          where: {
            ...(ids ? { domain_id: { in: ids } } : {}),
            ...(filter?.status ? { status: filter.status as 'active' } : {}),
          },
          orderBy: { id: 'asc' },
        }),
      );
    },
  }),
}));

/**
 * The ids of the domains a listing covers: the one asked for (access.ts has checked the caller administers it;
 * [] when it does not exist), else null for an admin (all) or the caller's own domains.
 */
export function domainIds(ctx: GraphQLContext, domain: string | null | undefined): number[] | null {
  if (domain) {
    const d = ctx.repos.domains.get(domain);
    return d ? [d.id] : [];
  }
  if (ctx.auth.admin) return null;
  return [...ctx.auth.domains].flatMap((n) => ctx.repos.domains.get(n)?.id ?? []);
}

const domainOfAddress = (email: string) => email.slice(email.lastIndexOf('@') + 1);

/** A domain administrator's quota is at most the domain's maxMailboxSize, when that is set. */
function checkQuota(ctx: GraphQLContext, email: string, quota: number | null | undefined): void {
  if (ctx.auth.admin || quota === null || quota === undefined) return;
  const max = ctx.repos.domains.get(domainOfAddress(email))?.max_mailbox_size ?? 0;
  if (max > 0 && (quota === 0 || quota > max))
    throw new ForbiddenError(`only an admin can set a quota above the domain's maxMailboxSize (${max} bytes)`);
}

const userPath = (p: (string | number)[]) => ['input', ...p.map((x) => (x === 'full_name' ? 'fullName' : x))];

builder.mutationFields((t) => ({
  createUser: t.field({
    type: User,
    errors: { types: MUTATION_ERRORS },
    description: 'Creates a user (and its INBOX, Sent, Drafts, Trash, Junk, Archive) in an existing domain.',
    args: { input: t.arg({ type: CreateUserInput, required: true }) },
    resolve: (_r, { input }, ctx) =>
      mapInputErrors(userPath, () => {
        checkQuota(ctx, input.email, input.quota);
        return ctx.accounts.createUser(ctx.auth.actor, input.email, input.password, {
          fullName: input.fullName,
          quota: input.quota,
          status: (input.status as 'active' | null) ?? undefined,
        });
      }),
  }),
  updateUser: t.field({
    type: User,
    errors: { types: MUTATION_ERRORS },
    description: 'Changes a user; its quota and status only by an administrator of its domain.',
    args: { email: t.arg.string({ required: true }), input: t.arg({ type: UpdateUserInput, required: true }) },
    resolve: (_r, { email, input }, ctx) =>
      mapInputErrors(userPath, () => {
        if ((input.quota !== undefined || input.status !== undefined) && !canManageUser(ctx.auth, email))
          throw new ForbiddenError('only an administrator of the domain can change the quota or status of a user');
        checkQuota(ctx, email, input.quota);
        return ctx.accounts.updateUser(ctx.auth.actor, email, {
          fullName: input.fullName,
          quota: input.quota,
          status: (input.status as 'active' | null) ?? undefined,
        });
      }),
  }),
  setUserPassword: t.field({
    type: User,
    errors: { types: MUTATION_ERRORS },
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({
        required: true,
        validate: z
          .string()
          .min(PASSWORD_MIN, { error: `must be at least ${PASSWORD_MIN} characters` })
          .max(PASSWORD_MAX),
      }),
    },
    resolve: (_r, { email, password }, ctx) =>
      mapInputErrors(under(), () => ctx.accounts.setPassword(ctx.auth.actor, email, password)),
  }),
  changePassword: t.field({
    type: User,
    errors: { types: CREDENTIAL_MUTATION_ERRORS },
    description:
      'Changes a password after checking the current one (AuthenticationError when it does not match); ends the user’s other sessions.',
    args: {
      email: t.arg.string({ required: true }),
      currentPassword: t.arg.string({ required: true }),
      newPassword: t.arg.string({ required: true }),
    },
    resolve: (_r, { email, currentPassword, newPassword }, ctx) =>
      mapInputErrors(
        (p) => (p[0] === 'password' ? ['newPassword', ...p.slice(1)] : p),
        () => ctx.accounts.changePassword(ctx.auth.actor, email, currentPassword, newPassword, ctx.auth.sessionId),
      ),
  }),
  deleteUser: t.field({
    type: Deleted,
    errors: { types: MUTATION_ERRORS },
    description: 'Deletes a user with its mailboxes and messages.',
    args: { email: t.arg.string({ required: true }) },
    resolve: (_r, { email }, ctx) =>
      mapInputErrors(under(), () => {
        const row = ctx.accounts.deleteUser(ctx.auth.actor, email);
        return { id: encodeGlobalID('User', row.id), key: row.email };
      }),
  }),
}));
