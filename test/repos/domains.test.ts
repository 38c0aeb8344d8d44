import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainDefaults } from '../../schema/db/domain-defaults.ts';
import type { Topics } from '../../src/events/topics.ts';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/repos/errors.ts';
import { nextTick, testDb } from '../helpers/db.ts';

test('_default template: created once with the guide defaults, never duplicated or overwritten', (t) => {
  const { db, repos } = testDb(t);
  const tpl = repos.domains.template();
  assert.equal(tpl.name, '_default');
  assert.equal(tpl.dkim_key_type, 'rsa');
  assert.equal(tpl.dkim_key_size, 2048);
  assert.equal(tpl.dkim_signing_enabled, true);
  assert.equal(tpl.spf_enabled, true);
  assert.equal(tpl.spf_fail_action, 'reject');
  assert.equal(tpl.spf_softfail_action, 'accept');
  assert.equal(tpl.dmarc_enabled, true);
  assert.equal(tpl.clamav_enabled, true);
  assert.equal(tpl.clamav_virus_action, 'reject');
  assert.equal(tpl.spam_reject_score, 10);
  assert.equal(tpl.spam_quarantine_score, 5);
  assert.equal(tpl.greylist_enabled, true);
  assert.equal(tpl.greylist_delay_minutes, 5);
  assert.equal(tpl.greylist_expiry_days, 30);
  assert.deepEqual(tpl.ratelimit_smtp_per_ip, { count: 100, window_minutes: 60 });
  assert.deepEqual(tpl.ratelimit_auth_per_ip, { count: 10, window_minutes: 15 });
  assert.equal(tpl.auth_totp_enforced, false);
  assert.deepEqual(
    [tpl.auth_brute_force_threshold, tpl.auth_brute_force_window_minutes, tpl.auth_brute_force_block_minutes],
    [5, 15, 60],
  );
  for (const [k, v] of Object.entries(domainDefaults)) assert.deepEqual(tpl[k as keyof typeof tpl], v, k);

  repos.domains.update('_default', { spam_reject_score: 12 });
  assert.equal(repos.domains.ensureTemplate(), false);
  assert.equal(repos.domains.ensureTemplate(), false);
  const rows = db.$client
    .prepare("select count(*) n, max(spam_reject_score) s from domains where name = '_default'")
    .get() as { n: number; s: number };
  assert.deepEqual(rows, { n: 1, s: 12 });
});

test('create from the template copies its settings (not its DKIM keys); without it, column defaults apply', (t) => {
  const { repos } = testDb(t);
  repos.domains.update('_default', { spam_reject_score: 7.5, greylist_enabled: false, dkim_public_key: 'TEMPLATE' });
  const a = repos.domains.create('Example.COM.', { useTemplate: true });
  assert.equal(a.name, 'example.com');
  assert.equal(a.spam_reject_score, 7.5);
  assert.equal(a.greylist_enabled, false);
  assert.equal(a.dkim_public_key, null);
  const b = repos.domains.create('company2.com', {
    useTemplate: false,
    values: { max_users: 50, auth_totp_enforced: true },
  });
  assert.equal(b.spam_reject_score, 10);
  assert.equal(b.greylist_enabled, true);
  assert.equal(b.max_users, 50);
  assert.equal(b.auth_totp_enforced, true);
  assert.equal(repos.domains.count(), 2);
  assert.deepEqual(
    repos.domains.list().map((d) => d.name),
    ['example.com', 'company2.com'],
  );
  assert.deepEqual(
    repos.domains.list({ after: a.id }).map((d) => d.name),
    ['company2.com'],
  );
});

test('IDN names are stored as punycode; invalid names and duplicates are refused', (t) => {
  const { repos } = testDb(t);
  assert.equal(repos.domains.create('bücher.example', { useTemplate: true }).name, 'xn--bcher-kva.example');
  assert.equal(repos.domains.get('BÜCHER.example')?.name, 'xn--bcher-kva.example');
  assert.throws(() => repos.domains.create('bücher.example', { useTemplate: true }), ConflictError);
  for (const bad of ['nodot', '-bad.example', 'a..b', 'sp ace.example', `${'x'.repeat(64)}.example`])
    assert.throws(() => repos.domains.create(bad, { useTemplate: true }), InvalidInputError, bad);
  assert.throws(() => repos.domains.create('_default', { useTemplate: true }), ConflictError);
});

test('reads are cached and every write invalidates: the next reader sees the change at once', async (t) => {
  const { db, repos, bus } = testDb(t);
  repos.domains.create('hot.example', { useTemplate: true });
  const events: Topics['domain.changed'][] = [];
  bus.subscribe('domain.changed', (e) => {
    events.push(e);
  });
  const first = repos.domains.get('hot.example');
  // A cached read does not hit the database: change the row behind the repository's back...
  db.$client.prepare("update domains set spam_reject_score = 99 where name = 'hot.example'").run();
  assert.equal(repos.domains.get('hot.example'), first);
  // ...while a write through the repository is seen by the very next read, before any event is delivered.
  const updated = repos.domains.update('hot.example', { spam_reject_score: 12, greylist_enabled: false });
  assert.equal(repos.domains.get('hot.example')?.spam_reject_score, 12);
  assert.equal(updated.greylist_enabled, false);
  assert.equal(events.length, 0, 'events are delivered after the write returns, never inside it');
  await nextTick();
  assert.deepEqual(events, [
    { name: 'hot.example', action: 'updated', fields: ['spam_reject_score', 'greylist_enabled'] },
  ]);
});

test('delete refuses while users exist unless forced; the template cannot be deleted', async (t) => {
  const { repos } = testDb(t);
  repos.domains.create('busy.example', { useTemplate: true });
  repos.users.create({ email: 'a@busy.example', passwordHash: 'x' });
  assert.throws(() => repos.domains.delete('busy.example'), /still has 1 user/);
  assert.ok(repos.domains.get('busy.example'));
  repos.domains.delete('busy.example', { force: true });
  assert.equal(repos.domains.get('busy.example'), undefined);
  assert.equal(repos.users.get('a@busy.example'), undefined);
  assert.throws(() => repos.domains.delete('_default'), ConflictError);
  assert.throws(() => repos.domains.delete('nope.example'), NotFoundError);
  assert.throws(() => repos.domains.update('nope.example', { spam_enabled: false }), NotFoundError);
});
