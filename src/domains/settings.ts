/**
 * The per-domain security settings, declared once: which column each setting lives in, the section and field
 * name the REST shim uses (gomailserver's column names without the family prefix), the GraphQL section name,
 * and the zod schema that validates the value. Rules: every API maps its input onto a flat column patch with
 * these tables and validates it with validateDomainPatch(); error paths are reported as column names and each
 * API translates them back to its own field paths.
 */
import { z } from 'zod';
import { RSA_KEY_SIZES } from '../dkim/keys.ts';
import { type DomainRow, domainDefaults } from '../repos/rows.ts';

const action = (values: readonly [string, ...string[]]) =>
  z.enum(values, { error: `must be one of ${values.join(', ')}` });
const int = (min: number, max: number) =>
  z
    .number({ error: 'must be a number' })
    .int({ error: 'must be a whole number' })
    .min(min, { error: `must be at least ${min}` })
    .max(max, { error: `must be at most ${max}` });
const bool = z.boolean({ error: 'must be true or false' });
const email = z.email({ error: 'must be an email address' }).max(254);
const score = z
  .number({ error: 'must be a number' })
  .min(-100_000, { error: 'must be at least -100000' })
  .max(100_000, { error: 'must be at most 100000' });
export const rateLimitRule = z.object(
  { count: int(1, 1_000_000), window_minutes: int(1, 10_080) },
  { error: 'must be {"count": N, "window_minutes": M}' },
);

export interface SectionDecl {
  /** Section name in the REST shim (and the gomailserver column family). */
  rest: string;
  /** Section name in GraphQL. */
  graphql: string;
  prefix: string;
  fields: Record<string, z.ZodType>;
}

export const SECTIONS: SectionDecl[] = [
  {
    rest: 'dkim',
    graphql: 'dkim',
    prefix: 'dkim_',
    fields: {
      signing_enabled: bool,
      verify_enabled: bool,
      key_type: action(['rsa', 'ed25519']),
      key_size: z.union(
        RSA_KEY_SIZES.map((n) => z.literal(n)) as [z.ZodLiteral<1024>, z.ZodLiteral<2048>, z.ZodLiteral<4096>],
        {
          error: 'must be 1024, 2048 or 4096',
        },
      ),
      selector: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i, {
        error: 'must be a DNS label (letters, digits, hyphens)',
      }),
      headers_to_sign: z
        .array(z.string().regex(/^[!-9;-~]+$/, { error: 'must be a header field name' }), {
          error: 'must be a list of header names',
        })
        .min(1)
        .refine((h) => h.some((x) => x.toLowerCase() === 'from'), { error: 'must include From (RFC 6376 5.4)' }),
    },
  },
  {
    rest: 'spf',
    graphql: 'spf',
    prefix: 'spf_',
    fields: {
      enabled: bool,
      fail_action: action(['reject', 'quarantine', 'accept', 'tag']),
      softfail_action: action(['reject', 'quarantine', 'accept', 'tag']),
      max_lookups: int(1, 100),
    },
  },
  {
    rest: 'dmarc',
    graphql: 'dmarc',
    prefix: 'dmarc_',
    fields: {
      enabled: bool,
      policy: action(['none', 'quarantine', 'reject']),
      report_enabled: bool,
      report_email: email.nullable(),
    },
  },
  {
    rest: 'clamav',
    graphql: 'antivirus',
    prefix: 'clamav_',
    fields: {
      enabled: bool,
      max_scan_size: int(1024, 1024 * 1024 * 1024),
      virus_action: action(['reject', 'quarantine', 'tag']),
      fail_action: action(['reject', 'quarantine', 'tag', 'accept']),
    },
  },
  {
    rest: 'spam',
    graphql: 'antispam',
    prefix: 'spam_',
    fields: {
      enabled: bool,
      // SpamAssassin scores GTUBE 1000: a threshold above that must be possible (to let even GTUBE through).
      reject_score: score,
      quarantine_score: score,
      learning_enabled: bool,
    },
  },
  {
    rest: 'greylist',
    graphql: 'greylist',
    prefix: 'greylist_',
    fields: {
      enabled: bool,
      delay_minutes: int(0, 1440),
      expiry_days: int(1, 3650),
      whitelist_after: int(0, 1000),
      cleanup_interval: int(60, 86400),
    },
  },
  {
    rest: 'rate_limit',
    graphql: 'rateLimits',
    prefix: 'ratelimit_',
    fields: {
      enabled: bool,
      smtp_per_ip: rateLimitRule,
      smtp_per_user: rateLimitRule,
      smtp_per_domain: rateLimitRule,
      auth_per_ip: rateLimitRule,
      imap_per_user: rateLimitRule,
      cleanup_interval: int(60, 86400),
    },
  },
  {
    rest: 'auth',
    graphql: 'auth',
    prefix: 'auth_',
    fields: {
      totp_enforced: bool,
      brute_force_enabled: bool,
      brute_force_threshold: int(1, 1000),
      brute_force_window_minutes: int(1, 1440),
      brute_force_block_minutes: int(1, 525_600),
      ip_blacklist_enabled: bool,
      cleanup_interval: int(60, 86400),
    },
  },
];

/** Top-level (non-security) domain columns an API may set. */
export const GENERAL_FIELDS: Record<string, z.ZodType> = {
  status: action(['active', 'disabled']),
  max_users: int(0, 10_000_000),
  max_mailbox_size: int(0, Number.MAX_SAFE_INTEGER),
  default_quota: int(0, Number.MAX_SAFE_INTEGER),
  catchall_email: email.nullable(),
  backup_mx: bool,
  spf_record: z.string().max(512).nullable(),
};

export type DomainColumn = keyof DomainRow;
export type ColumnPatch = Partial<Record<DomainColumn, unknown>>;

/** Every settable column with its schema. */
export const COLUMN_SCHEMAS: Record<string, z.ZodType> = {
  ...GENERAL_FIELDS,
  ...Object.fromEntries(
    SECTIONS.flatMap((s) => Object.entries(s.fields).map(([f, schema]) => [`${s.prefix}${f}`, schema])),
  ),
};

export const columnOf = (section: SectionDecl, field: string) => `${section.prefix}${field}`;

/** Rate-limit columns: their value is a {count, window_minutes} rule (JSON in the database). */
export const RULE_COLUMNS = new Set(
  Object.entries(COLUMN_SCHEMAS)
    .filter(([, schema]) => schema === rateLimitRule)
    .map(([column]) => column),
);

/** The guide's defaults as a domain row, for validating a domain created without the template. */
export const DEFAULT_SETTINGS = domainDefaults as unknown as Partial<DomainRow>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface FieldIssue {
  /** The column the problem is about. */
  column: string;
  message: string;
  /** Extra path inside the value (e.g. ["count"] of a rate-limit rule). */
  subpath: (string | number)[];
}

/**
 * Validates a column patch on its own and merged over `current` (cross-field rules; partial rate-limit rules
 * are completed from `current`). Returns the issues; an empty list means `value` may be applied.
 */
export function validateDomainPatch(
  patch: ColumnPatch,
  current: Partial<DomainRow> | undefined,
): { issues: FieldIssue[]; value: ColumnPatch } {
  const issues: FieldIssue[] = [];
  const value: ColumnPatch = {};
  for (const [column, v] of Object.entries(patch)) {
    const schema = COLUMN_SCHEMAS[column];
    if (!schema) {
      issues.push({ column, message: 'is not a domain setting', subpath: [] });
      continue;
    }
    // A rule given in part ({"count": 50}) keeps the current value of the fields it leaves out.
    const given =
      RULE_COLUMNS.has(column) && isObject(v) && isObject(current?.[column as keyof DomainRow])
        ? { ...(current![column as keyof DomainRow] as object), ...v }
        : v;
    const r = schema.safeParse(given);
    if (r.success) value[column as DomainColumn] = r.data;
    else
      for (const i of r.error.issues)
        issues.push({ column, message: i.message, subpath: i.path as (string | number)[] });
  }
  if (issues.length) return { issues, value };
  const merged = { ...current, ...value } as Partial<DomainRow>;
  if (
    merged.spam_reject_score !== undefined &&
    merged.spam_quarantine_score !== undefined &&
    merged.spam_quarantine_score > merged.spam_reject_score
  ) {
    const column = 'spam_quarantine_score' in value ? 'spam_quarantine_score' : 'spam_reject_score';
    issues.push({ column, message: 'quarantine score must not exceed the reject score', subpath: [] });
  }
  return { issues, value };
}
