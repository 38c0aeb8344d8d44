/**
 * The guide's per-domain security defaults, declared once.
 * Rules: the `domains` table's column defaults and the `_default` template row created on first run both come
 * from this object, so a domain created without the template still gets sane values for omitted columns.
 */
export interface RateLimitRule {
  count: number;
  window_minutes: number;
}

export const DKIM_HEADERS_TO_SIGN = ['From', 'To', 'Subject', 'Date', 'Message-ID', 'MIME-Version', 'Content-Type'];

export const domainDefaults = {
  status: 'active',
  max_users: 0, // 0 = unlimited
  max_mailbox_size: 0, // 0 = unlimited
  default_quota: 1073741824, // 1 GiB
  dkim_selector: 'default',
  dkim_signing_enabled: true,
  dkim_verify_enabled: true,
  dkim_key_size: 2048,
  dkim_key_type: 'rsa',
  spf_enabled: true,
  spf_max_lookups: 10,
  spf_fail_action: 'reject',
  spf_softfail_action: 'accept',
  dmarc_enabled: true,
  dmarc_policy: 'none',
  dmarc_report_enabled: false,
  clamav_enabled: true,
  clamav_max_scan_size: 52428800,
  clamav_virus_action: 'reject',
  clamav_fail_action: 'accept',
  spam_enabled: true,
  spam_reject_score: 10.0,
  spam_quarantine_score: 5.0,
  spam_learning_enabled: true,
  greylist_enabled: true,
  greylist_delay_minutes: 5,
  greylist_expiry_days: 30,
  greylist_cleanup_interval: 3600,
  greylist_whitelist_after: 3,
  ratelimit_enabled: true,
  ratelimit_smtp_per_ip: { count: 100, window_minutes: 60 } as RateLimitRule,
  ratelimit_smtp_per_user: { count: 500, window_minutes: 60 } as RateLimitRule,
  ratelimit_smtp_per_domain: { count: 1000, window_minutes: 60 } as RateLimitRule,
  ratelimit_auth_per_ip: { count: 10, window_minutes: 15 } as RateLimitRule,
  ratelimit_imap_per_user: { count: 1000, window_minutes: 60 } as RateLimitRule,
  ratelimit_cleanup_interval: 300,
  auth_totp_enforced: false,
  auth_brute_force_enabled: true,
  auth_brute_force_threshold: 5,
  auth_brute_force_window_minutes: 15,
  auth_brute_force_block_minutes: 60,
  auth_ip_blacklist_enabled: true,
  auth_cleanup_interval: 3600,
} as const;
