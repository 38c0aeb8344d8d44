/**
 * Administration: the audit log of every state change made through an API or the CLI, API tokens and login
 * sessions (both stored as SHA-256 hashes; the clear token is shown once, on creation). An API token's scopes
 * are `admin`, `domain:<name>` (domain admin) or `user:<address>`; a session acts as its user (and as domain
 * admin of the user's domain_admins rows, read at each request).
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
import { users } from './accounts.ts';
import { now } from './columns.ts';

export const auditLog = sqliteTable(
  'audit_log',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    at: integer('at').notNull().default(now),
    actor: text('actor').notNull(),
    action: text('action').notNull(),
    target_type: text('target_type').notNull(),
    target: text('target').notNull(),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>(),
  },
  (t) => [index('audit_log_at_idx').on(t.at)],
);

export const apiTokens = sqliteTable('api_tokens', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull(),
  token_hash: text('token_hash').notNull().unique(),
  scopes: text('scopes', { mode: 'json' }).$type<string[]>().notNull().default(['admin']),
  /** Who created it (the audit actor). */
  created_by: text('created_by'),
  created_at: integer('created_at').notNull().default(now),
  last_used_at: integer('last_used_at'),
  expires_at: integer('expires_at'),
  revoked_at: integer('revoked_at'),
});

export const sessions = sqliteTable(
  'sessions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    user_id: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    token_hash: text('token_hash').notNull().unique(),
    created_at: integer('created_at').notNull().default(now),
    created_ip: text('created_ip'),
    user_agent: text('user_agent'),
    expires_at: integer('expires_at').notNull(),
    last_used_at: integer('last_used_at'),
    revoked_at: integer('revoked_at'),
  },
  (t) => [index('sessions_user_idx').on(t.user_id), index('sessions_expires_idx').on(t.expires_at)],
);

export type AuditRow = typeof auditLog.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
export type SessionRow = typeof sessions.$inferSelect;
