// Greylisting (src/policy/greylist.ts over src/repos/greylist.ts, SQLite in a throwaway file): deferral, delay,
// whitelisting, expiry, cleanup, network grouping, normalization, and state that survives reopening the database.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeDatabase } from '../../src/db/client.ts';
import {
  clientNetwork,
  createGreylist,
  type GreylistEntry,
  type GreylistSettings,
  type GreylistStore,
  tripletOf,
} from '../../src/policy/greylist.ts';
import { reopenDb, testDb } from '../helpers/db.ts';

const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const T0 = Date.UTC(2026, 0, 1);
const settings: GreylistSettings = {
  greylist_enabled: true,
  greylist_delay_minutes: 5,
  greylist_expiry_days: 30,
  greylist_whitelist_after: 3,
};
const mail = { ip: '192.0.2.10', sender: 'Alice@Example.ORG', recipient: 'Bob@Example.COM' };

function setup(t: { after(fn: () => unknown): void }) {
  const { repos, db, path } = testDb(t);
  const store: GreylistStore = repos.greylist;
  const clock = { now: T0 };
  const gl = createGreylist({ store, now: () => clock.now });
  const row = (a = mail) => repos.greylist.get(tripletOf(a));
  return { gl, clock, row, store, db, path };
}

test('first attempt deferred; retries before the delay deferred without moving first seen; after it, passed', async (t) => {
  const { gl, clock, row } = setup(t);
  assert.deepEqual(await gl.check(mail, settings), {
    check: 'greylist',
    action: 'tempfail',
    reason: 'greylisted',
    text: 'Greylisted, try again in 300 seconds',
    detail: { ip_net: '192.0.2.0/24', retry_after_s: 300 },
  });
  clock.now = T0 + 4 * MIN;
  const again = await gl.check(mail, settings);
  assert.equal(again?.reason, 'greylisted');
  assert.equal(again?.detail?.retry_after_s, 60);
  assert.deepEqual(row(), { first_seen_at: T0, last_seen_at: T0 + 4 * MIN, pass_count: 0 });
  clock.now = T0 + 5 * MIN;
  assert.equal(await gl.check(mail, settings), null);
  assert.deepEqual(row(), { first_seen_at: T0, last_seen_at: T0 + 5 * MIN, pass_count: 1 });
  clock.now = T0 + 6 * MIN;
  assert.equal(await gl.check(mail, settings), null, 'and later attempts pass too');
  assert.equal(row()?.pass_count, 2);
});

test('a triplet that passed greylist_whitelist_after times passes at once, even when the delay is raised', async (t) => {
  const { gl, clock, row } = setup(t);
  const other = { ...mail, recipient: 'carol@example.com' };
  await gl.check(mail, settings);
  await gl.check(other, settings);
  clock.now = T0 + 5 * MIN;
  for (let i = 0; i < 3; i++) assert.equal(await gl.check(mail, settings), null);
  assert.equal(await gl.check(other, settings), null);
  assert.equal(row()?.pass_count, 3);
  // An hour's delay now: the whitelisted triplet goes on passing, the one with a single pass waits again.
  const slow = { ...settings, greylist_delay_minutes: 60 };
  clock.now = T0 + 10 * MIN;
  assert.equal(await gl.check(mail, slow), null);
  assert.equal((await gl.check(other, slow))?.detail?.retry_after_s, 50 * 60);
  // whitelist_after = 0 never whitelists: the 4-pass triplet waits under the raised delay too.
  assert.equal((await gl.check(mail, { ...slow, greylist_whitelist_after: 0 }))?.reason, 'greylisted');
});

test('a triplet last seen more than greylist_expiry_days ago is new again', async (t) => {
  const { gl, clock, row } = setup(t);
  await gl.check(mail, settings);
  clock.now = T0 + 10 * MIN;
  for (let i = 0; i < 3; i++) assert.equal(await gl.check(mail, settings), null);
  clock.now = T0 + 10 * MIN + 30 * DAY;
  assert.equal(await gl.check(mail, settings), null, 'exactly the expiry: still known');
  clock.now = T0 + 10 * MIN + 60 * DAY + 1;
  assert.equal((await gl.check(mail, settings))?.reason, 'greylisted', 'expired, whitelist and all');
  assert.deepEqual(row(), { first_seen_at: clock.now, last_seen_at: clock.now, pass_count: 0 });
  // The expiry is the domain's setting of the moment.
  clock.now += 6 * MIN;
  assert.equal(await gl.check(mail, settings), null);
  clock.now += 2 * DAY;
  assert.equal((await gl.check(mail, { ...settings, greylist_expiry_days: 1 }))?.reason, 'greylisted');
});

test('cleanup deletes only the triplets last seen before the expiry', async (t) => {
  const { gl, clock, row, store } = setup(t);
  const at = (recipient: string) => ({ ...mail, recipient });
  const seen = async (recipient: string, when: number) => {
    clock.now = when;
    await gl.check(at(recipient), settings);
  };
  await seen('old@example.com', T0);
  await seen('edge@example.com', T0 + DAY);
  await seen('new@example.com', T0 + 20 * DAY);
  await seen('retried@example.com', T0);
  await seen('retried@example.com', T0 + 20 * DAY);
  const now = T0 + 31 * DAY;
  assert.equal(await gl.cleanup(now, 30), 1);
  assert.equal(row(at('old@example.com')), undefined);
  assert.ok(row(at('edge@example.com')), 'last seen exactly 30 days ago: kept');
  assert.ok(row(at('new@example.com')));
  assert.ok(row(at('retried@example.com')), 'first seen long ago, last seen recently: kept');
  assert.equal(await gl.cleanup(now, 30), 0);
  assert.equal(await gl.cleanup(now, 10), 3);
  assert.equal(await store.deleteExpired(Number.MAX_SAFE_INTEGER), 0);
});

test('clients are grouped by /24 (IPv4, IPv4-mapped IPv6) and /64 (IPv6)', async (t) => {
  assert.equal(clientNetwork('192.0.2.77'), '192.0.2.0/24');
  assert.equal(clientNetwork('::ffff:192.0.2.9'), '192.0.2.0/24');
  assert.equal(clientNetwork('::FFFF:c000:0209'), '192.0.2.0/24');
  assert.equal(clientNetwork('2001:0DB8:0000:0012:ffff:ffff:ffff:ffff'), '2001:db8:0:12::/64');
  assert.equal(clientNetwork('2001:db8:0:12:aa::1'), '2001:db8:0:12::/64');
  assert.equal(clientNetwork('fe80::1%eth0'), 'fe80::/64');
  assert.equal(clientNetwork('1:2:3:4:5:6:7:8'), '1:2:3:4::/64');
  assert.throws(() => clientNetwork('example.com'), TypeError);

  const { gl, clock } = setup(t);
  const from = (ip: string) => ({ ...mail, ip });
  await gl.check(from('192.0.2.1'), settings);
  await gl.check(from('2001:db8:0:12::1'), settings);
  clock.now = T0 + 5 * MIN;
  assert.equal(await gl.check(from('192.0.2.254'), settings), null, 'same /24');
  assert.equal(await gl.check(from('::ffff:192.0.2.33'), settings), null, 'same /24, IPv4-mapped');
  assert.equal((await gl.check(from('192.0.3.1'), settings))?.reason, 'greylisted', 'another /24');
  assert.equal(await gl.check(from('2001:db8:0:12:ffff::2'), settings), null, 'same /64');
  assert.equal((await gl.check(from('2001:db8:0:13::1'), settings))?.reason, 'greylisted', 'another /64');
});

test('sender and recipient are compared without case; the null sender is one sender; others are new', async (t) => {
  const { gl, clock } = setup(t);
  await gl.check(mail, settings);
  await gl.check({ ...mail, sender: '<>' }, settings);
  clock.now = T0 + 5 * MIN;
  assert.equal(
    await gl.check({ ...mail, sender: 'alice@example.org', recipient: '<BOB@example.com>' }, settings),
    null,
  );
  assert.equal(await gl.check({ ...mail, sender: '' }, settings), null);
  assert.equal((await gl.check({ ...mail, sender: 'mallory@example.org' }, settings))?.reason, 'greylisted');
  assert.equal((await gl.check({ ...mail, recipient: 'dave@example.com' }, settings))?.reason, 'greylisted');
});

test('greylist_enabled = false lets everything through and records nothing', async (t) => {
  const { gl, row } = setup(t);
  assert.equal(await gl.check(mail, { ...settings, greylist_enabled: false }), null);
  assert.equal(row(), undefined);
});

test('greylist state survives closing and reopening the database file', async (t) => {
  const { gl, db, path } = setup(t);
  await gl.check(mail, settings);
  closeDatabase(db);
  const { repos } = reopenDb(t, path);
  const clock = { now: T0 + 2 * MIN };
  const gl2 = createGreylist({ store: repos.greylist, now: () => clock.now });
  assert.equal((await gl2.check(mail, settings))?.detail?.retry_after_s, 180, 'first seen is remembered');
  clock.now = T0 + 5 * MIN;
  assert.equal(await gl2.check(mail, settings), null);
});

test('a store that answers with Promises (as a Redis one would) gives the same decisions', async () => {
  const rows = new Map<string, GreylistEntry>();
  const k = (t: { ip_net: string; sender: string; recipient: string }) => `${t.ip_net} ${t.sender} ${t.recipient}`;
  const store: GreylistStore = {
    get: async (t) => (rows.has(k(t)) ? { ...rows.get(k(t))! } : undefined),
    insert: async (t, now) => {
      rows.set(k(t), { first_seen_at: now, last_seen_at: now, pass_count: 0 });
    },
    update: async (t, now, passed) => {
      const e = rows.get(k(t))!;
      rows.set(k(t), { ...e, last_seen_at: now, pass_count: e.pass_count + (passed ? 1 : 0) });
    },
    deleteExpired: async () => 0,
  };
  const clock = { now: T0 };
  const gl = createGreylist({ store, now: () => clock.now });
  assert.equal((await gl.check(mail, settings))?.reason, 'greylisted');
  clock.now += 5 * MIN;
  assert.equal(await gl.check(mail, settings), null);
  assert.equal(rows.get('192.0.2.0/24 alice@example.org bob@example.com')?.pass_count, 1);
});
