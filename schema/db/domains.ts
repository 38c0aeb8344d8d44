/**
 * Domains: one row per hosted domain, plus the `_default` template row that new domains copy.
 * Column names follow gomailserver's `domains` table (the REST API exposes them verbatim).
 * Rate limits are JSON text `{"count":N,"window_minutes":M}`, as in gomailserver.
 */
import { integer, real, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import { now } from './columns.ts';
import { DKIM_HEADERS_TO_SIGN, domainDefaults as d, type RateLimitRule } from './domain-defaults.ts';

const bool = (name: string, def: boolean) => integer(name, { mode: 'boolean' }).notNull().default(def);
const rule = (name: string, def: RateLimitRule) =>
  text(name, { mode: 'json' }).$type<RateLimitRule>().notNull().default(def);

export const domains = sqliteTable('domains', {
  id: integer('id').primaryKey({ autoIncrement: true }),
  name: text('name').notNull().unique(),
  status: text('status', { enum: ['active', 'disabled'] })
    .notNull()
    .default(d.status),
  max_users: integer('max_users').notNull().default(d.max_users),
  max_mailbox_size: integer('max_mailbox_size').notNull().default(d.max_mailbox_size),
  default_quota: integer('default_quota').notNull().default(d.default_quota),
  catchall_email: text('catchall_email'),
  backup_mx: integer('backup_mx', { mode: 'boolean' }).notNull().default(false),

  dkim_selector: text('dkim_selector').notNull().default(d.dkim_selector),
  dkim_private_key: text('dkim_private_key'),
  dkim_public_key: text('dkim_public_key'),
  dkim_signing_enabled: bool('dkim_signing_enabled', d.dkim_signing_enabled),
  dkim_verify_enabled: bool('dkim_verify_enabled', d.dkim_verify_enabled),
  dkim_key_size: integer('dkim_key_size').notNull().default(d.dkim_key_size),
  dkim_key_type: text('dkim_key_type', { enum: ['rsa', 'ed25519'] })
    .notNull()
    .default(d.dkim_key_type),
  dkim_headers_to_sign: text('dkim_headers_to_sign', { mode: 'json' })
    .$type<string[]>()
    .notNull()
    .default(DKIM_HEADERS_TO_SIGN),

  spf_record: text('spf_record'),
  spf_enabled: bool('spf_enabled', d.spf_enabled),
  spf_max_lookups: integer('spf_max_lookups').notNull().default(d.spf_max_lookups),
  spf_fail_action: text('spf_fail_action', { enum: ['reject', 'quarantine', 'accept', 'tag'] })
    .notNull()
    .default(d.spf_fail_action),
  spf_softfail_action: text('spf_softfail_action', { enum: ['reject', 'quarantine', 'accept', 'tag'] })
    .notNull()
    .default(d.spf_softfail_action),

  dmarc_policy: text('dmarc_policy', { enum: ['none', 'quarantine', 'reject'] })
    .notNull()
    .default(d.dmarc_policy),
  dmarc_enabled: bool('dmarc_enabled', d.dmarc_enabled),
  dmarc_report_enabled: bool('dmarc_report_enabled', d.dmarc_report_enabled),
  dmarc_report_email: text('dmarc_report_email'),

  clamav_enabled: bool('clamav_enabled', d.clamav_enabled),
  clamav_max_scan_size: integer('clamav_max_scan_size').notNull().default(d.clamav_max_scan_size),
  clamav_virus_action: text('clamav_virus_action', { enum: ['reject', 'quarantine', 'tag'] })
    .notNull()
    .default(d.clamav_virus_action),
  clamav_fail_action: text('clamav_fail_action', { enum: ['reject', 'quarantine', 'tag', 'accept'] })
    .notNull()
    .default(d.clamav_fail_action),

  spam_enabled: bool('spam_enabled', d.spam_enabled),
  spam_reject_score: real('spam_reject_score').notNull().default(d.spam_reject_score),
  spam_quarantine_score: real('spam_quarantine_score').notNull().default(d.spam_quarantine_score),
  spam_learning_enabled: bool('spam_learning_enabled', d.spam_learning_enabled),

  greylist_enabled: bool('greylist_enabled', d.greylist_enabled),
  greylist_delay_minutes: integer('greylist_delay_minutes').notNull().default(d.greylist_delay_minutes),
  greylist_expiry_days: integer('greylist_expiry_days').notNull().default(d.greylist_expiry_days),
  greylist_cleanup_interval: integer('greylist_cleanup_interval').notNull().default(d.greylist_cleanup_interval),
  greylist_whitelist_after: integer('greylist_whitelist_after').notNull().default(d.greylist_whitelist_after),

  ratelimit_enabled: bool('ratelimit_enabled', d.ratelimit_enabled),
  ratelimit_smtp_per_ip: rule('ratelimit_smtp_per_ip', d.ratelimit_smtp_per_ip),
  ratelimit_smtp_per_user: rule('ratelimit_smtp_per_user', d.ratelimit_smtp_per_user),
  ratelimit_smtp_per_domain: rule('ratelimit_smtp_per_domain', d.ratelimit_smtp_per_domain),
  ratelimit_auth_per_ip: rule('ratelimit_auth_per_ip', d.ratelimit_auth_per_ip),
  ratelimit_imap_per_user: rule('ratelimit_imap_per_user', d.ratelimit_imap_per_user),
  ratelimit_cleanup_interval: integer('ratelimit_cleanup_interval').notNull().default(d.ratelimit_cleanup_interval),

  auth_totp_enforced: bool('auth_totp_enforced', d.auth_totp_enforced),
  auth_brute_force_enabled: bool('auth_brute_force_enabled', d.auth_brute_force_enabled),
  auth_brute_force_threshold: integer('auth_brute_force_threshold').notNull().default(d.auth_brute_force_threshold),
  auth_brute_force_window_minutes: integer('auth_brute_force_window_minutes')
    .notNull()
    .default(d.auth_brute_force_window_minutes),
  auth_brute_force_block_minutes: integer('auth_brute_force_block_minutes')
    .notNull()
    .default(d.auth_brute_force_block_minutes),
  auth_ip_blacklist_enabled: bool('auth_ip_blacklist_enabled', d.auth_ip_blacklist_enabled),
  auth_cleanup_interval: integer('auth_cleanup_interval').notNull().default(d.auth_cleanup_interval),

  created_at: integer('created_at').notNull().default(now),
  updated_at: integer('updated_at').notNull().default(now),
});

export type DomainRow = typeof domains.$inferSelect;
export type NewDomainRow = typeof domains.$inferInsert;

/**
 * DKIM keys of a domain other than the active one (the domain row's dkim_selector/dkim_*_key sign). Rules: a
 * `staged` key is published (its record shown) but does not sign yet; activating it makes it the domain's active
 * key and keeps the previous one here as `retiring` (still published, so signatures made with it keep verifying);
 * retiring removes a key for good. One selector per domain.
 */
export const dkimKeys = sqliteTable(
  'dkim_keys',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    domain_id: integer('domain_id')
      .notNull()
      .references(() => domains.id, { onDelete: 'cascade' }),
    selector: text('selector').notNull(),
    key_type: text('key_type', { enum: ['rsa', 'ed25519'] }).notNull(),
    key_size: integer('key_size').notNull(),
    private_key: text('private_key').notNull(),
    public_key: text('public_key').notNull(),
    status: text('status', { enum: ['staged', 'retiring'] }).notNull(),
    created_at: integer('created_at').notNull().default(now),
    updated_at: integer('updated_at').notNull().default(now),
  },
  (t) => [uniqueIndex('dkim_keys_domain_selector_idx').on(t.domain_id, t.selector)],
);

export type DkimKeyRow = typeof dkimKeys.$inferSelect;
