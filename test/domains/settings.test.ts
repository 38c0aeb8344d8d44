// src/domains/settings.ts: every domain setting declared once (column, schema); validateDomainPatch() checks a
// column patch on its own and merged over the current row, and reports problems by column (and sub-path).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainDefaults } from '../../schema/db/domain-defaults.ts';
import {
  COLUMN_SCHEMAS,
  DEFAULT_SETTINGS,
  GENERAL_FIELDS,
  RULE_COLUMNS,
  SECTIONS,
  validateDomainPatch,
} from '../../src/domains/settings.ts';

const problems = (patch: Record<string, unknown>, current = DEFAULT_SETTINGS) =>
  validateDomainPatch(patch, current).issues.map((i) => [i.column, i.subpath.join('.'), i.message]);

test('every section field is a column <prefix><field>; rate-limit rules are exactly the ratelimit_* rule columns', () => {
  for (const s of SECTIONS)
    for (const f of Object.keys(s.fields)) assert.ok(COLUMN_SCHEMAS[`${s.prefix}${f}`], `${s.prefix}${f}`);
  for (const f of Object.keys(GENERAL_FIELDS)) assert.ok(COLUMN_SCHEMAS[f], f);
  assert.deepEqual([...RULE_COLUMNS].sort(), [
    'ratelimit_auth_per_ip',
    'ratelimit_imap_per_user',
    'ratelimit_smtp_per_domain',
    'ratelimit_smtp_per_ip',
    'ratelimit_smtp_per_user',
  ]);
  // Every column the guide gives a default for validates that default (the defaults are settable values).
  const defaults = Object.fromEntries(
    Object.keys(COLUMN_SCHEMAS)
      .map((c) => [c, (domainDefaults as Record<string, unknown>)[c]])
      .filter(([, v]) => v !== undefined),
  );
  assert.ok(Object.keys(defaults).length > 40, `${Object.keys(defaults).length} defaults`);
  assert.deepEqual(validateDomainPatch(defaults, DEFAULT_SETTINGS).issues, []);
});

test('valid values pass through as the value to apply', () => {
  const patch = {
    dkim_key_type: 'ed25519',
    dkim_selector: 'mail-2026.eu',
    dkim_headers_to_sign: ['from', 'To', 'Subject'],
    spf_fail_action: 'quarantine',
    dmarc_report_email: null,
    greylist_delay_minutes: 0,
    status: 'disabled',
    catchall_email: 'postmaster@example.com',
  };
  assert.deepEqual(validateDomainPatch(patch, DEFAULT_SETTINGS), { issues: [], value: patch });
});

test('unknown columns and wrong values are reported by column with a readable message', () => {
  assert.deepEqual(problems({ dkim_key_bits: 2048 }), [['dkim_key_bits', '', 'is not a domain setting']]);
  assert.deepEqual(problems({ dkim_key_size: 3000 }), [['dkim_key_size', '', 'must be 1024, 2048 or 4096']]);
  assert.deepEqual(problems({ dkim_key_type: 'dsa' }), [['dkim_key_type', '', 'must be one of rsa, ed25519']]);
  assert.deepEqual(problems({ dkim_selector: 'bad_selector!' }), [
    ['dkim_selector', '', 'must be a DNS label (letters, digits, hyphens)'],
  ]);
  assert.deepEqual(problems({ dkim_headers_to_sign: ['To', 'Subject'] }), [
    ['dkim_headers_to_sign', '', 'must include From (RFC 6376 5.4)'],
  ]);
  assert.deepEqual(problems({ greylist_delay_minutes: 1.5 }), [
    ['greylist_delay_minutes', '', 'must be a whole number'],
  ]);
  assert.deepEqual(problems({ greylist_delay_minutes: -1 }), [['greylist_delay_minutes', '', 'must be at least 0']]);
  assert.deepEqual(problems({ spf_max_lookups: 101 }), [['spf_max_lookups', '', 'must be at most 100']]);
  assert.deepEqual(problems({ spf_enabled: 'yes' }), [['spf_enabled', '', 'must be true or false']]);
  assert.deepEqual(problems({ catchall_email: 'nobody' }), [['catchall_email', '', 'must be an email address']]);
  // All problems at once, not just the first.
  assert.equal(problems({ dkim_key_size: 1, spf_enabled: 1, nope: 1 }).length, 3);
});

test('a rate-limit rule given in part keeps the current value of the rest; its problems name the sub-field', () => {
  const current = { ...DEFAULT_SETTINGS, ratelimit_smtp_per_ip: { count: 100, window_minutes: 60 } } as never;
  assert.deepEqual(validateDomainPatch({ ratelimit_smtp_per_ip: { count: 50 } }, current), {
    issues: [],
    value: { ratelimit_smtp_per_ip: { count: 50, window_minutes: 60 } },
  });
  assert.deepEqual(problems({ ratelimit_smtp_per_ip: { count: 0 } }, current), [
    ['ratelimit_smtp_per_ip', 'count', 'must be at least 1'],
  ]);
  assert.deepEqual(problems({ ratelimit_smtp_per_ip: 5 }, current), [
    ['ratelimit_smtp_per_ip', '', 'must be {"count": N, "window_minutes": M}'],
  ]);
});

test('cross-field rule: the quarantine score may not exceed the reject score, checked against the current row', () => {
  const current = { ...DEFAULT_SETTINGS, spam_reject_score: 10, spam_quarantine_score: 5 } as never;
  const msg = 'quarantine score must not exceed the reject score';
  assert.deepEqual(problems({ spam_quarantine_score: 11 }, current), [['spam_quarantine_score', '', msg]]);
  assert.deepEqual(problems({ spam_reject_score: 4 }, current), [['spam_reject_score', '', msg]]);
  assert.deepEqual(problems({ spam_reject_score: 4, spam_quarantine_score: 6 }, current), [
    ['spam_quarantine_score', '', msg],
  ]);
  assert.deepEqual(problems({ spam_reject_score: 4, spam_quarantine_score: 4 }, current), []);
});
