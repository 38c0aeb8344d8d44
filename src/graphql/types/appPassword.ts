/**
 * App passwords of a user. Field: User.appPasswords. Mutations: createAppPassword (the only answer that carries
 * the clear password: shown once), revokeAppPassword. Rules: the hash is never exposed; a user manages its own,
 * an administrator of its domain those of its users (access.ts); the service (accounts/appPasswords.ts)
 * validates, writes and audits.
 */
import type { AppPasswordInfo } from '../../repos/appPasswords.ts';
import { builder } from '../builder.ts';
import { mapInputErrors, under } from '../inputPaths.ts';
import { MUTATION_ERRORS } from './errors.ts';
import { User } from './user.ts';

const AppPasswordScope = builder.enumType('AppPasswordScope', {
  values: { IMAP: { value: 'imap' }, SMTP: { value: 'smtp' } },
});

export const AppPassword = builder.objectRef<AppPasswordInfo>('AppPassword').implement({
  fields: (t) => ({
    id: t.exposeInt('id'),
    name: t.exposeString('name'),
    scopes: t.field({ type: [AppPasswordScope], resolve: (a) => a.scopes }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.created_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (a) => a.last_used_at }),
    lastUsedIp: t.exposeString('last_used_ip', { nullable: true }),
  }),
});

const CreatedAppPassword = builder.objectRef<AppPasswordInfo & { password: string }>('CreatedAppPassword').implement({
  description: 'A new app password: `password` is shown this once and cannot be read again.',
  fields: (t) => ({
    id: t.exposeInt('id'),
    name: t.exposeString('name'),
    scopes: t.field({ type: [AppPasswordScope], resolve: (a) => a.scopes }),
    createdAt: t.field({ type: 'DateTime', resolve: (a) => a.created_at }),
    password: t.exposeString('password', { description: 'Four groups of four letters; spaces are optional at login.' }),
  }),
});

builder.objectFields(User, (t) => ({
  appPasswords: t.field({
    type: [AppPassword],
    description: 'The app passwords (never their secrets).',
    resolve: (u, _a, ctx) => ctx.repos.appPasswords.list(u.id),
  }),
}));

builder.mutationFields((t) => ({
  createAppPassword: t.field({
    type: CreatedAppPassword,
    errors: { types: MUTATION_ERRORS },
    description: 'Creates an app password for the protocols in `scopes`; the answer carries it once.',
    args: {
      email: t.arg.string({ required: true }),
      name: t.arg.string({ required: true }),
      scopes: t.arg({ type: [AppPasswordScope], required: true }),
    },
    resolve: (_r, { email, name, scopes }, ctx) =>
      mapInputErrors(under(), () => ctx.appPasswords.create(ctx.auth.actor, email, name, scopes as string[])),
  }),
  revokeAppPassword: t.field({
    type: AppPassword,
    errors: { types: MUTATION_ERRORS },
    description: 'Deletes an app password: the next login with it fails (open sessions stay).',
    args: { email: t.arg.string({ required: true }), id: t.arg.int({ required: true }) },
    resolve: (_r, { email, id }, ctx) =>
      mapInputErrors(under(), () => ctx.appPasswords.revoke(ctx.auth.actor, email, id)),
  }),
}));
