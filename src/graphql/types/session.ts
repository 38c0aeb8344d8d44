/**
 * Login sessions, the caller and API tokens. Queries: me, sessions, apiTokens. Mutations: login (public: no token
 * needed), logout, revokeSession, createApiToken (the only answer that carries an API token: shown once),
 * revokeApiToken, setUserAdminDomains. Field: User.adminDomains. Rules: the service (accounts/sessions.ts) checks
 * authority, validates, writes and audits; a failed login is an AuthenticationError result whose text is the same
 * for every cause but a missing TOTP code; a token is never readable again; who may call what is in access.ts.
 */
import type { Principal } from '../../auth/principal.ts';
import type { ApiTokenRow, SessionRow, UserRow } from '../../repos/rows.ts';
import { manages } from '../access.ts';
import { builder } from '../builder.ts';
import { mapInputErrors, under } from '../inputPaths.ts';
import { CREDENTIAL_MUTATION_ERRORS, MUTATION_ERRORS } from './errors.ts';
import { User } from './user.ts';

const CallerKind = builder.enumType('CallerKind', {
  values: {
    ADMIN_TOKEN: { value: 'admin-token', description: 'The configured admin token.' },
    API_TOKEN: { value: 'api-token', description: 'An API token (createApiToken).' },
    SESSION: { value: 'session', description: 'A login session (login).' },
    ANONYMOUS: { value: 'anonymous', description: 'No token (only login is allowed).' },
  },
});

const Me = builder.objectRef<Principal>('Me').implement({
  description: 'The caller of this request: what its token is and what it may do.',
  fields: (t) => ({
    actor: t.exposeString('actor', { description: 'The name the audit log records.' }),
    via: t.field({ type: CallerKind, resolve: (p) => p.via }),
    admin: t.exposeBoolean('admin', { description: 'Holds the admin scope.' }),
    user: t.field({
      type: User,
      nullable: true,
      description: 'The user this caller is (a session, or an API token with a user: scope).',
      resolve: (p, _a, ctx) => (p.user ? (ctx.repos.users.byId(p.user.id) ?? null) : null),
    }),
    adminDomains: t.stringList({
      description: 'The domains this caller administers (empty until TOTP is enrolled when it must be).',
      resolve: (p) => (p.totpSetupRequired ? [] : [...p.domains].sort()),
    }),
    scopes: t.exposeStringList('scopes', { description: 'admin, domain:<name>, user:<address>.' }),
    totpSetupRequired: t.exposeBoolean('totpSetupRequired', {
      description:
        'The domain enforces TOTP and this user has not enrolled: only me, enrolTotp, confirmTotp and logout work.',
    }),
  }),
});

interface LoginShape {
  token: string;
  expiresAt: number;
  user: UserRow;
  totpSetupRequired: boolean;
}

const Login = builder.objectRef<LoginShape>('Login').implement({
  description: 'A new login session: `token` is shown this once.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Send it as `Authorization: Bearer <token>`.' }),
    expiresAt: t.field({ type: 'DateTime', resolve: (l) => l.expiresAt }),
    totpSetupRequired: t.exposeBoolean('totpSetupRequired', {
      description: 'The session may only enrol TOTP (enrolTotp, confirmTotp), read me and log out.',
    }),
    user: t.field({ type: User, grantScopes: ['login'], resolve: (l) => l.user }),
  }),
});

const Session = builder.objectRef<SessionRow>('Session').implement({
  description: 'A login session (never its token).',
  fields: (t) => ({
    id: t.exposeInt('id'),
    createdAt: t.field({ type: 'DateTime', resolve: (s) => s.created_at }),
    createdIp: t.exposeString('created_ip', { nullable: true, description: 'The client address at login.' }),
    userAgent: t.exposeString('user_agent', { nullable: true }),
    expiresAt: t.field({ type: 'DateTime', resolve: (s) => s.expires_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.last_used_at }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (s) => s.revoked_at }),
    current: t.boolean({
      description: 'The session of this request.',
      resolve: (s, _a, ctx) => s.id === ctx.auth.sessionId,
    }),
  }),
});

const ApiToken = builder.objectRef<ApiTokenRow>('ApiToken').implement({
  description: 'An API token (never the token itself).',
  fields: (t) => ({
    id: t.exposeInt('id'),
    name: t.exposeString('name'),
    scopes: t.exposeStringList('scopes', { description: 'admin, domain:<name>, user:<address>.' }),
    createdBy: t.exposeString('created_by', { nullable: true }),
    createdAt: t.field({ type: 'DateTime', resolve: (r) => r.created_at }),
    lastUsedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.last_used_at }),
    expiresAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.expires_at }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (r) => r.revoked_at }),
  }),
});

const CreatedApiToken = builder.objectRef<{ token: string; row: ApiTokenRow }>('CreatedApiToken').implement({
  description: 'A new API token: `token` is shown this once and cannot be read again.',
  fields: (t) => ({
    token: t.exposeString('token', { description: 'Send it as `Authorization: Bearer <token>`.' }),
    apiToken: t.field({ type: ApiToken, resolve: (c) => c.row }),
  }),
});

builder.objectFields(User, (t) => ({
  adminDomains: t.stringList({
    description: 'The domains this user administers (to another domain administrator, only those it administers too).',
    resolve: (u, _a, ctx) => {
      const all = ctx.repos.domainAdmins.domainsOf(u.id);
      const p = ctx.auth;
      return p.admin || p.user?.id === u.id ? all : all.filter((d) => manages(p, d));
    },
  }),
}));

builder.queryFields((t) => ({
  me: t.field({ type: Me, resolve: (_r, _a, ctx) => ctx.auth }),
  sessions: t.field({
    type: [Session],
    description: "A user's live sessions, newest first.",
    args: { email: t.arg.string({ required: true }) },
    resolve: (_r, { email }, ctx) => ctx.sessions.sessionsOf(ctx.auth, email),
  }),
  apiTokens: t.field({
    type: [ApiToken],
    description: 'The API tokens the caller may see (those whose every scope it holds), revoked ones included.',
    resolve: (_r, _a, ctx) => ctx.sessions.tokens(ctx.auth),
  }),
}));

builder.mutationFields((t) => ({
  login: t.field({
    type: Login,
    errors: { types: CREDENTIAL_MUTATION_ERRORS },
    description:
      'Starts a session with a user’s address and account password (app passwords are for IMAP and SMTP), plus a TOTP or recovery code when the user has TOTP on. Every failure answers the same AuthenticationError, after the same delay, except a missing TOTP code.',
    args: {
      email: t.arg.string({ required: true }),
      password: t.arg.string({ required: true }),
      totpCode: t.arg.string({ required: false, description: 'A current TOTP code or an unused recovery code.' }),
    },
    resolve: (_r, { email, password, totpCode }, ctx) =>
      mapInputErrors(under(), async () => {
        const r = await ctx.sessions.login(email, password, totpCode, ctx.client);
        return {
          token: r.token,
          expiresAt: r.session.expires_at,
          user: r.user,
          totpSetupRequired: r.totpSetupRequired,
        };
      }),
  }),
  logout: t.boolean({
    description: 'Ends the session of this request; false when the caller is not a session.',
    resolve: (_r, _a, ctx) => ctx.sessions.logout(ctx.auth),
  }),
  revokeSession: t.field({
    type: Session,
    errors: { types: MUTATION_ERRORS },
    description: 'Ends a session (its next request gets 401).',
    args: { id: t.arg.int({ required: true }) },
    resolve: (_r, { id }, ctx) => mapInputErrors(under(), () => ctx.sessions.revokeSession(ctx.auth, id)),
  }),
  createApiToken: t.field({
    type: CreatedApiToken,
    errors: { types: MUTATION_ERRORS },
    description: 'Creates a named API token with scopes the caller holds itself, optionally expiring.',
    args: {
      name: t.arg.string({ required: true }),
      scopes: t.arg.stringList({ required: true, description: 'admin, domain:<name>, user:<address>.' }),
      expiresAt: t.arg({ type: 'DateTime', required: false }),
    },
    resolve: (_r, { name, scopes, expiresAt }, ctx) =>
      mapInputErrors(under(), () => ctx.sessions.createToken(ctx.auth, name, scopes, expiresAt?.getTime() ?? null)),
  }),
  revokeApiToken: t.field({
    type: ApiToken,
    errors: { types: MUTATION_ERRORS },
    description: 'Revokes an API token: it stops working at once.',
    args: { id: t.arg.int({ required: true }) },
    resolve: (_r, { id }, ctx) => mapInputErrors(under(), () => ctx.sessions.revokeToken(ctx.auth, id)),
  }),
  setUserAdminDomains: t.field({
    type: User,
    errors: { types: MUTATION_ERRORS },
    description: 'Makes a user the administrator of exactly these domains (an empty list: of none).',
    args: { email: t.arg.string({ required: true }), domains: t.arg.stringList({ required: true }) },
    resolve: (_r, { email, domains }, ctx) =>
      mapInputErrors(under(), () => {
        ctx.sessions.setAdminDomains(ctx.auth, email, domains);
        return ctx.repos.users.require(email);
      }),
  }),
}));
