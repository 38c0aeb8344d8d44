/**
 * Administration: the audit log of every state change made through an API or the CLI, and API tokens
 * (stored as SHA-256 hashes; the clear token is shown once, on creation).
 */
import { index, integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';
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
  created_at: integer('created_at').notNull().default(now),
  last_used_at: integer('last_used_at'),
  expires_at: integer('expires_at'),
  revoked_at: integer('revoked_at'),
});

export type AuditRow = typeof auditLog.$inferSelect;
export type ApiTokenRow = typeof apiTokens.$inferSelect;
