/**
 * Who may call each root field of the GraphQL API: one declaration (ACCESS), enforced from here. Rules:
 * - Every Query, Mutation and Subscription field has an entry (assertAccessDeclared fails the schema build
 *   otherwise; the root types' own default, the admin scope, is what an undeclared field would get).
 * - `who`: 'public' (no token needed: only `login`), 'user' (any authenticated caller, for itself or for the
 *   users it administers), 'domain' (a domain administrator, for its own domains; or an admin), 'admin'.
 * - `targets`: the arguments naming what a call touches (dotted paths into the arguments), each checked when
 *   given: 'domain' (a domain name the caller administers), 'address' (an address, user or alias, in a domain the
 *   caller administers), 'user' (a user the caller is or administers). A field whose target is optional and
 *   left out narrows what it returns to what the caller may see (`narrowed`).
 * - No escalation: a domain administrator cannot act for (reset the password of, delete, ...) a user who
 *   administers a domain it does not, since that user's session would give it that domain; it can still read
 *   such a user in its listings (the User type's `read` scope).
 * - `totpSetup`: usable by a session that must enrol TOTP first (principal.ts); every other field is FORBIDDEN to
 *   it, and meanwhile it administers nothing and acts only for itself.
 * - Enforcement (AccessPlugin): every root field gets its scope-auth `authScopes` from its entry (with
 *   skipTypeScopes, so the root types' admin default applies only to undeclared fields); the same check, and the
 *   type-level scopes of object fields, also run before argument mappers (validation, global IDs), because
 *   `unsafelyHandleInputErrors` answers invalid input before scope-auth's step: a caller without the scope gets
 *   FORBIDDEN whatever it sent, never a ValidationError.
 * - A failed check is a ForbiddenError (GraphQL code FORBIDDEN) saying what was missing.
 * - Finer rules that depend on argument values live in the resolvers and are noted in `note` (updateDomain's
 *   admin-only fields, updateUser's quota and status, disableTotp without a code, quotas above maxMailboxSize).
 */
import SchemaBuilder, { BasePlugin, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core';
import { type AuthFailure, AuthScopeFailureType, RequestCache } from '@pothos/plugin-scope-auth';
import type { GraphQLFieldResolver, GraphQLSchema } from 'graphql';
import { canActAsUser, canManageDomain, canManageUser, type Principal } from '../auth/principal.ts';
import { ForbiddenError } from '../repos/errors.ts';

export type Who = 'public' | 'user' | 'domain' | 'admin';
export type TargetKind = 'domain' | 'address' | 'user';

export interface Access {
  who: Who;
  /** Argument path -> what it names; checked when the argument is given. */
  targets?: Record<string, TargetKind>;
  /** Usable by a session that must enrol TOTP first. */
  totpSetup?: true;
  /** Without its optional target, the answer holds only what the caller may see. */
  narrowed?: true;
  /** A rule the resolver adds (depends on argument values). */
  note?: string;
}

export type RootType = 'Query' | 'Mutation' | 'Subscription';

const admin: Access = { who: 'admin' };

export const ACCESS: Record<RootType, Record<string, Access>> = {
  Query: {
    alias: { who: 'domain', targets: { address: 'address' } },
    aliases: { who: 'domain', targets: { domain: 'domain' }, narrowed: true },
    apiTokens: { who: 'user', narrowed: true, note: 'only the tokens whose every scope the caller holds' },
    auditLog: admin,
    blockedIps: admin,
    defaultTemplate: admin,
    deliveryEvents: {
      who: 'user',
      targets: { 'filter.domain': 'domain', 'filter.user': 'user' },
      narrowed: true,
      note: 'a user sees the events of its own address; a domain administrator those of its domains; recipients outside them are left out unless the event is mail from the caller',
    },
    domain: { who: 'domain', targets: { name: 'domain' } },
    domains: { who: 'domain', narrowed: true },
    me: { who: 'user', totpSetup: true },
    node: admin,
    nodes: admin,
    queue: admin,
    queueSummary: admin,
    sessions: { who: 'user', targets: { email: 'user' } },
    user: { who: 'user', targets: { email: 'user' } },
    users: { who: 'domain', targets: { 'filter.domain': 'domain' }, narrowed: true },
  },
  Mutation: {
    activateDkimKey: { who: 'domain', targets: { domain: 'domain' } },
    allowIp: admin,
    blockIp: admin,
    changePassword: { who: 'user', targets: { email: 'user' } },
    confirmTotp: { who: 'user', targets: { email: 'user' }, totpSetup: true },
    createAlias: { who: 'domain', targets: { address: 'address' } },
    createApiToken: { who: 'user', note: 'the scopes must be ones the caller holds' },
    createAppPassword: { who: 'user', targets: { email: 'user' } },
    createDomain: admin,
    createUser: {
      who: 'domain',
      targets: { 'input.email': 'address' },
      note: "a domain administrator's quota is at most the domain's maxMailboxSize (when set)",
    },
    deleteAlias: { who: 'domain', targets: { address: 'address' } },
    deleteDomain: admin,
    deleteQueue: admin,
    deleteQueueEntry: admin,
    deleteUser: { who: 'domain', targets: { email: 'address' } },
    disableTotp: {
      who: 'user',
      targets: { email: 'user' },
      note: 'without a code only for an administrator of the domain',
    },
    enrolTotp: { who: 'user', targets: { email: 'user' }, totpSetup: true },
    login: { who: 'public' },
    logout: { who: 'user', totpSetup: true },
    retireDkimKey: { who: 'domain', targets: { domain: 'domain' } },
    retryQueue: admin,
    retryQueueEntry: admin,
    revokeApiToken: { who: 'user', note: 'only tokens whose every scope the caller holds (others are not found)' },
    revokeAppPassword: { who: 'user', targets: { email: 'user' } },
    revokeSession: { who: 'user', note: 'only sessions of users the caller may act for (others are not found)' },
    rotateDkimKey: { who: 'domain', targets: { domain: 'domain' } },
    setUserAdminDomains: admin,
    setUserPassword: { who: 'domain', targets: { email: 'address' } },
    stageDkimKey: { who: 'domain', targets: { domain: 'domain' } },
    unblockIp: admin,
    updateDefaultTemplate: admin,
    updateDomain: {
      who: 'domain',
      targets: { name: 'domain' },
      note: 'status, maxUsers, maxMailboxSize, backupMx and rateLimits are for admins; defaultQuota at most maxMailboxSize',
    },
    updateDomainSecurity: {
      who: 'domain',
      targets: { name: 'domain' },
      note: 'rateLimits are for admins',
    },
    updateUser: {
      who: 'user',
      targets: { email: 'user' },
      note: 'quota and status only by an administrator of the domain (quota at most maxMailboxSize)',
    },
  },
  Subscription: {
    configChanged: { who: 'domain', targets: { domain: 'domain' }, narrowed: true },
    deliveryEvents: {
      who: 'user',
      targets: { 'filter.domain': 'domain', 'filter.user': 'user' },
      narrowed: true,
      note: 'as the deliveryEvents query',
    },
    queueChanged: admin,
  },
};

/** The scopes fields ask for (builder.ts's AuthScopes); scopeLoaders says what each means for a caller. */
export interface AccessScopes {
  /** The admin scope. */
  admin: boolean;
  /** Any authenticated caller (not an anonymous `login` request). */
  principal: boolean;
  /** Not a session that must enrol TOTP first. */
  setupDone: boolean;
  /** Administers at least one domain (or admin). */
  domainAdmin: boolean;
  /** Administers this domain. */
  domain: string;
  /** Administers the domain of this address. */
  address: string;
  /** Is this user, or administers its domain (and every domain the user administers). */
  user: string;
  /** May read this user: is it, or administers its domain. */
  read: string;
}

const normEmail = (s: string) => s.trim().toLowerCase();

/**
 * Scope loaders of a caller (scope-auth's initializer); `adminDomainsOf` gives the domains a user (by address)
 * administers, for the no-escalation rule.
 */
export function scopeLoaders(p: Principal, adminDomainsOf: (email: string) => string[]) {
  const setup = p.totpSetupRequired;
  const self = (email: string) => p.user?.email === normEmail(email);
  const within = (email: string) => p.admin || self(email) || adminDomainsOf(email).every((d) => canManageDomain(p, d));
  return {
    admin: !setup && p.admin,
    principal: p.via !== 'anonymous',
    setupDone: !setup,
    domainAdmin: !setup && (p.admin || p.domains.size > 0),
    domain: (name: string) => !setup && canManageDomain(p, name),
    address: (address: string) => !setup && canManageUser(p, address) && within(address),
    user: (email: string) => (setup ? self(email) : canActAsUser(p, email) && within(email)),
    read: (email: string) => (setup ? self(email) : canActAsUser(p, email)),
  };
}

/** The caller's effective authority: what a session that must enrol TOTP first may do is nothing but itself. */
export const manages = (p: Principal, domain: string) => !p.totpSetupRequired && canManageDomain(p, domain);

type ScopeMap = Partial<AccessScopes> & { $all?: ScopeMap; $any?: ScopeMap; $granted?: string };

function argAt(args: Record<string, unknown>, path: string): unknown {
  let v: unknown = args;
  for (const k of path.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

/** The scope map a call needs: `true` for public fields, else every requirement of the entry. */
export function scopesFor(rule: Access, args: Record<string, unknown>): ScopeMap | boolean {
  if (rule.who === 'public') return true;
  const all: ScopeMap = { principal: true };
  if (!rule.totpSetup) all.setupDone = true;
  if (rule.who === 'admin') all.admin = true;
  if (rule.who === 'domain') all.domainAdmin = true;
  let tail = all;
  for (const [path, kind] of Object.entries(rule.targets ?? {})) {
    const v = argAt(args, path);
    if (typeof v !== 'string') continue;
    const next: ScopeMap = { [kind]: v };
    tail.$all = next;
    tail = next;
  }
  return { $all: all };
}

const MESSAGES: Record<keyof AccessScopes, (v: unknown) => string> = {
  admin: () => 'this needs the admin scope',
  principal: () => 'this needs a token: log in first',
  setupDone: () =>
    'enrol TOTP first: your domain requires two-factor authentication (enrolTotp, then confirmTotp); until then only me, enrolTotp, confirmTotp and logout are allowed',
  domainAdmin: () => 'this needs a domain administrator or the admin scope',
  domain: (v) => `not an administrator of the domain "${v}"`,
  address: (v) => `not an administrator of the domain of "${v}"`,
  user: (v) => `not allowed to act for "${v}" (its user, or an administrator of every domain it administers)`,
  read: (v) => `not allowed to read "${v}"`,
};

function describe(f: AuthFailure): string | null {
  if (f.kind === AuthScopeFailureType.AuthScope)
    return MESSAGES[f.scope as keyof AccessScopes]?.(f.parameter) ?? `missing the scope ${f.scope}`;
  if (f.kind === AuthScopeFailureType.AllAuthScopes || f.kind === AuthScopeFailureType.AnyAuthScopes)
    for (const c of f.failures) {
      const m = describe(c);
      if (m) return m;
    }
  if (f.kind === AuthScopeFailureType.AuthScopeFunction && f.error) return f.error.message;
  return null;
}

/** scope-auth's unauthorizedError: a ForbiddenError naming the first missing scope. */
export const forbiddenFor = (failure: AuthFailure) => new ForbiddenError(describe(failure) ?? 'not allowed');

const ROOTS = new Set<string>(['Query', 'Mutation', 'Subscription']);

export const accessOf = (type: string, field: string): Access | undefined =>
  ROOTS.has(type) ? ACCESS[type as RootType][field] : undefined;

const WHO_TEXT: Record<Who, string> = {
  public: 'anyone (no token needed)',
  user: 'any caller, for itself or for users it administers',
  domain: 'domain administrators (their own domains) and admins',
  admin: 'admins',
};

/** The access line appended to a root field's description in the SDL. */
export function accessText(rule: Access): string {
  const parts = [`Access: ${WHO_TEXT[rule.who]}`];
  if (rule.targets) parts.push(`checked on ${Object.keys(rule.targets).join(', ')}`);
  if (rule.narrowed) parts.push('narrowed to what the caller may see');
  if (rule.totpSetup) parts.push('allowed before TOTP enrolment');
  let text = `${parts.join('; ')}.`;
  if (rule.note) text += ` (${rule.note}.)`;
  return text;
}

type Resolver<Types extends SchemaTypes> = GraphQLFieldResolver<unknown, Types['Context'], object>;

/**
 * Applies ACCESS (see the rules above): root fields get their authScopes from the declaration, and access (the
 * field's, or its parent type's scopes) is checked before argument mappers run.
 */
export class AccessPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const rule = accessOf(fieldConfig.parentType, fieldConfig.name);
    if (!rule) return fieldConfig;
    const text = accessText(rule);
    return {
      ...fieldConfig,
      description: fieldConfig.description ? `${fieldConfig.description}\n${text}` : text,
      extensions: { ...fieldConfig.extensions, access: rule },
      pothosOptions: {
        ...fieldConfig.pothosOptions,
        skipTypeScopes: true,
        authScopes: (_parent: unknown, args: Record<string, unknown>) => scopesFor(rule, args),
      } as never,
    };
  }

  override wrapArgMappers(
    resolver: Resolver<Types> | undefined,
    fieldConfig: PothosOutputFieldConfig<Types>,
  ): Resolver<Types> | undefined {
    if (!resolver) return resolver;
    const builder = this.builder;
    const rule = accessOf(fieldConfig.parentType, fieldConfig.name);
    if (ROOTS.has(fieldConfig.parentType)) {
      const declared = rule ?? admin;
      return (parent, args, ctx, info) => {
        const failure = RequestCache.fromContext(ctx, builder).evaluateScopeMap(
          scopesFor(declared, args as Record<string, unknown>) as never,
          info,
        );
        return then(failure, (f) => {
          if (f) throw forbiddenFor(f);
          return resolver(parent, args, ctx, info);
        });
      };
    }
    const typeConfig = this.buildCache.getTypeConfig(fieldConfig.parentType);
    const typeScopes = (typeConfig.pothosOptions as { authScopes?: unknown }).authScopes;
    const skip = (fieldConfig.pothosOptions as { skipTypeScopes?: boolean }).skipTypeScopes;
    if (typeof typeScopes !== 'function' || skip || !fieldConfig.argMappers.length) return resolver;
    return (parent, args, ctx, info) => {
      const failure = RequestCache.fromContext(ctx, builder).evaluateTypeScopeFunction(
        typeScopes as never,
        typeConfig.name,
        parent,
        info,
      );
      return then(failure, (f) => {
        if (f) throw forbiddenFor(f);
        return resolver(parent, args, ctx, info);
      });
    };
  }
}

function then<T, R>(v: T | Promise<T>, fn: (v: T) => R): R | Promise<Awaited<R>> {
  return v instanceof Promise ? (v.then(fn) as Promise<Awaited<R>>) : fn(v);
}

declare global {
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      access: AccessPlugin<Types>;
    }
  }
}

SchemaBuilder.registerPlugin('access', AccessPlugin);

/** Every root field of the schema is declared in ACCESS, and every declaration names a field. */
export function assertAccessDeclared(schema: GraphQLSchema): void {
  const problems: string[] = [];
  for (const type of ['Query', 'Mutation', 'Subscription'] as const) {
    const fields = Object.keys(
      (type === 'Query'
        ? schema.getQueryType()
        : type === 'Mutation'
          ? schema.getMutationType()
          : schema.getSubscriptionType()
      )?.getFields() ?? {},
    );
    for (const f of fields) if (!ACCESS[type][f]) problems.push(`${type}.${f} has no entry in ACCESS`);
    for (const f of Object.keys(ACCESS[type])) if (!fields.includes(f)) problems.push(`ACCESS names ${type}.${f}`);
  }
  if (problems.length) throw new Error(`GraphQL access declaration (src/graphql/access.ts): ${problems.join('; ')}`);
}
