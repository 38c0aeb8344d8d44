/**
 * Accounts: users (mailbox owners), their app passwords, TOTP recovery codes, and aliases (incl. forwarding to
 * remote addresses). Rules: addresses are stored lower-cased and IDN-normalised by the repositories; a user's
 * domain is the part after the last '@'. Catch-all is the domain's `catchall_email` column, not an alias row.
 * TOTP secrets (active and pending) are stored encrypted (auth/totp.ts), recovery codes only hashed.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { now } from './columns.ts';
import { domains } from './domains.ts';

export const users = sqliteTable(
  'users',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    domain_id: integer('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'restrict' }),
    email: text('email').notNull().unique(),
    local_part: text('local_part').notNull(),
    full_name: text('full_name'),
    password_hash: text('password_hash').notNull(),
    /** Bytes; null means the domain's default_quota; 0 means unlimited. */
    quota: integer('quota'),
    used_bytes: integer('used_bytes').notNull().default(0),
    status: text('status', { enum: ['active', 'disabled', 'suspended'] })
      .notNull()
      .default('active'),
    /** The active TOTP secret, encrypted (base64 of iv|tag|ciphertext); null when TOTP is off. */
    totp_secret: text('totp_secret'),
    totp_enabled: integer('totp_enabled', { mode: 'boolean' }).notNull().default(false),
    /** A secret enrolled but not yet confirmed with a code (encrypted like totp_secret). */
    totp_pending_secret: text('totp_pending_secret'),
    /** The last accepted TOTP time step: codes for this step or earlier are refused (replay protection). */
    totp_last_step: integer('totp_last_step'),
    last_login_at: integer('last_login_at'),
    created_at: integer('created_at').notNull().default(now),
    updated_at: integer('updated_at').notNull().default(now),
  },
  (t) => [index('users_domain_idx').on(t.domain_id)],
);

/** The protocols an app password may be scoped to. */
export const APP_PASSWORD_SCOPES = ['imap', 'smtp'] as const;
export type AppPasswordScope = (typeof APP_PASSWORD_SCOPES)[number];

export const appPasswords = sqliteTable(
  'app_passwords',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    user_id: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    password_hash: text('password_hash').notNull(),
    /** The protocols it may log in to. */
    scopes: text('scopes', { mode: 'json' }).$type<AppPasswordScope[]>().notNull().default(sql`'["imap","smtp"]'`),
    created_at: integer('created_at').notNull().default(now),
    last_used_at: integer('last_used_at'),
    last_used_ip: text('last_used_ip'),
  },
  (t) => [index('app_passwords_user_idx').on(t.user_id)],
);

/** Single-use TOTP recovery codes, stored hashed; used_at is set when one is spent. */
export const recoveryCodes = sqliteTable(
  'recovery_codes',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    user_id: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    code_hash: text('code_hash').notNull(),
    used_at: integer('used_at'),
    created_at: integer('created_at').notNull().default(now),
  },
  (t) => [index('recovery_codes_user_idx').on(t.user_id)],
);

export const aliases = sqliteTable(
  'aliases',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    domain_id: integer('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    address: text('address').notNull().unique(),
    /** Local users, other aliases or remote addresses (forwarding). */
    destinations: text('destinations', { mode: 'json' }).$type<string[]>().notNull(),
    status: text('status', { enum: ['active', 'disabled'] })
      .notNull()
      .default('active'),
    created_at: integer('created_at').notNull().default(now),
    updated_at: integer('updated_at').notNull().default(now),
  },
  (t) => [index('aliases_domain_idx').on(t.domain_id)],
);

/** Users who administer a domain (its users, aliases and policies) through the API, with a login session. */
export const domainAdmins = sqliteTable(
  'domain_admins',
  {
    user_id: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    domain_id: integer('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    created_at: integer('created_at').notNull().default(now),
  },
  (t) => [primaryKey({ columns: [t.user_id, t.domain_id] }), index('domain_admins_domain_idx').on(t.domain_id)],
);

export type UserRow = typeof users.$inferSelect;
export type AliasRow = typeof aliases.$inferSelect;
export type AppPasswordRow = typeof appPasswords.$inferSelect;
export type RecoveryCodeRow = typeof recoveryCodes.$inferSelect;
