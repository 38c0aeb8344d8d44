// src/queue/srs.ts: SRS0/SRS1 as libsrs2 and postsrsd write them. Interoperability vectors are postsrsd's own
// (its tests/blackbox/socketmap.py and tests/unit/test_srs2.c: secret "tops3cr3t", local domain example.com,
// clock 2020-01-01 00:01:00 UTC); then round trips, case-insensitive hashes, tampering, expiry with a moved clock,
// SRS1 chains, local parts with '=' and '+', and the addresses that are never rewritten.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSrs, SrsError } from '../../src/queue/srs.ts';

const POSTSRSD_TIME = 1_577_836_860_000;
const DAY = 86_400_000;

const fails = (reason: string) => (e: unknown) => e instanceof SrsError && e.reason === reason;

test("postsrsd's vectors: forward, SRS0 to SRS1, SRS1 re-signed, reverse, case-munged, expired, forged", () => {
  const srs = createSrs(Buffer.from('tops3cr3t'), { now: () => POSTSRSD_TIME });
  assert.equal(srs.forward('test@otherdomain.com', 'example.com'), 'SRS0=vmyz=2W=otherdomain.com=test@example.com');
  assert.equal(srs.forward('test@example.com', 'example.com'), 'test@example.com', 'local domain: unchanged');
  assert.equal(
    srs.forward('SRS0=XjO9=2V=otherdomain.com=test@example.com', 'example.com'),
    'SRS0=XjO9=2V=otherdomain.com=test@example.com',
    'an SRS address of the local domain: unchanged',
  );
  assert.equal(
    srs.forward('SRS0=opaque+string@otherdomain.com', 'example.com'),
    'SRS1=chaI=otherdomain.com==opaque+string@example.com',
  );
  assert.equal(
    srs.forward('SRS1=X=thirddomain.com==opaque+string@otherdomain.com', 'example.com'),
    'SRS1=JIBX=thirddomain.com==opaque+string@example.com',
  );
  const long = 'a'.repeat(503);
  assert.equal(srs.forward(`test@${long}.net`, 'example.com'), `SRS0=G7tR=2W=${long}.net=test@example.com`);

  assert.equal(srs.reverse('SRS0=vmyz=2W=otherdomain.com=test@example.com'), 'test@otherdomain.com');
  assert.equal(srs.reverse('SRS0=XjO9=2V=otherdomain.com=test@example.com'), 'test@otherdomain.com');
  assert.equal(
    srs.reverse('SRS1=JIBX=thirddomain.com==opaque+string@example.com'),
    'SRS0=opaque+string@thirddomain.com',
  );
  assert.equal(srs.reverse('srs0=xjo9=2v=otherdomain.com=test@example.com'), 'test@otherdomain.com');
  assert.equal(srs.reverse('SRS0=XJO9=2V=OTHERDOMAIN.COM=TEST@EXAMPLE.COM'), 'TEST@OTHERDOMAIN.COM');
  const longer = 'a'.repeat(478);
  assert.equal(srs.reverse(`SRS0=iCvJ=2W=${longer}.net=test@example.com`), `test@${longer}.net`);

  assert.throws(() => srs.reverse('SRS0=te87=T7=otherdomain.com=test@example.com'), fails('expired'), 'old');
  assert.throws(() => srs.reverse('SRS0=VcIb=7N=otherdomain.com=test@example.com'), fails('expired'), 'future');
  assert.throws(() => srs.reverse('SRS0=FAKE=2V=otherdomain.com=test@example.com'), fails('hash'));
  assert.throws(() => srs.reverse('test@example.com'), fails('syntax'));
  for (const bad of [
    'SRS0=@example.com',
    'SRS0=XjO9@example.com',
    'SRS0=XjO9=2V@example.com',
    'SRS0=XjO9=2V=otherdomain.com@example.com',
    'SRS0=XjO9=2!=otherdomain.com=test@example.com',
    'SRS1=@example.com',
    'SRS1=JIBX=thirddomain.com@example.com',
    'SRS0=vmyz=2W=otherdomain.com=test',
  ])
    assert.throws(() => srs.reverse(bad), fails('syntax'), bad);
});

test('round trips, including local parts with = and +, and UTF-8; the hash is case-insensitive', () => {
  let clock = Date.UTC(2026, 11, 2, 12);
  const srs = createSrs(Buffer.alloc(32, 7), { now: () => clock });
  for (const sender of ['alice@example.org', 'a=b=c@example.org', 'bob+tag@Example.ORG', 'jörg@bücher.example']) {
    const fwd = srs.forward(sender, 'forward.test');
    assert.match(fwd, /^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=/);
    assert.ok(fwd.endsWith('@forward.test'), fwd);
    assert.ok(srs.isSrs(fwd));
    assert.equal(srs.reverse(fwd), sender);
    assert.equal(srs.reverse(fwd.toLowerCase()), sender.toLowerCase(), 'lowercased');
    clock += DAY;
    assert.equal(srs.reverse(fwd), sender, 'a day later');
  }
  assert.equal(srs.isSrs('alice@example.org'), false);
  assert.equal(srs.isSrs('srs1+x=y=z@example.org'), true);
});

test('a tampered address fails on its hash; another secret does too', () => {
  const srs = createSrs(Buffer.from('one secret'));
  const fwd = srs.forward('alice@example.org', 'forward.test');
  assert.throws(() => srs.reverse(fwd.replace('alice', 'mallory')), fails('hash'));
  assert.throws(() => srs.reverse(fwd.replace('example.org', 'evil.example')), fails('hash'));
  const h = fwd.slice(5, 9);
  const other = h[0] === 'A' ? 'B' : 'A';
  assert.throws(() => srs.reverse(fwd.replace(`=${h}=`, `=${other}${h.slice(1)}=`)), fails('hash'));
  assert.throws(() => createSrs(Buffer.from('two secret')).reverse(fwd), fails('hash'));
});

test('expiry: maxAgeDays days are fine, one more is not; the 1024-day wrap counts from the future as old', () => {
  let clock = Date.UTC(2026, 0, 1, 12);
  const srs = createSrs(Buffer.from('s'), { now: () => clock });
  const fwd = srs.forward('alice@example.org', 'forward.test');
  clock += 21 * DAY;
  assert.equal(srs.reverse(fwd), 'alice@example.org');
  clock += DAY;
  assert.throws(() => srs.reverse(fwd), fails('expired'));
  clock += 1003 * DAY;
  assert.equal(srs.reverse(fwd), 'alice@example.org', 'the stamp is modulo 1024 days (as in libsrs2)');

  clock = Date.UTC(2026, 0, 1, 12);
  const short = createSrs(Buffer.from('s'), { now: () => clock, maxAgeDays: 2 });
  const f2 = short.forward('alice@example.org', 'forward.test');
  clock += 3 * DAY;
  assert.throws(() => short.reverse(f2), fails('expired'));
  clock -= 4 * DAY;
  assert.throws(() => short.reverse(f2), fails('expired'), 'a stamp from the future');
});

test('SRS1: a second forwarder makes SRS1, a third re-signs it, reversing leads back hop by hop', () => {
  const first = createSrs(Buffer.from('first'));
  const second = createSrs(Buffer.from('second'));
  const third = createSrs(Buffer.from('third'));
  const a = first.forward('alice@example.org', 'one.test');
  const b = second.forward(a, 'two.test');
  assert.equal(b, `SRS1=${b.slice(5, 9)}=one.test==${a.slice(5, a.indexOf('@'))}@two.test`);
  const c = third.forward(b, 'three.test');
  assert.match(c, /^SRS1=.{4}=one\.test==/);
  assert.ok(c.endsWith('@three.test'));
  // Bounces: each SRS1 hop sends straight to the first forwarder, which reverses its SRS0.
  assert.equal(third.reverse(c), a);
  assert.equal(second.reverse(b), a);
  assert.equal(first.reverse(a), 'alice@example.org');
  assert.throws(() => second.reverse(c), fails('hash'), "another forwarder's SRS1");
  // The separator option changes only the character after the tag.
  const plus = createSrs(Buffer.from('first'), { separator: '+' });
  const p = plus.forward('alice@example.org', 'one.test');
  assert.match(p, /^SRS0\+/);
  assert.equal(first.reverse(p), 'alice@example.org');
});

test('never rewritten: the null sender, a sender without a domain, a sender of the local domain (any case)', () => {
  const srs = createSrs(Buffer.from('s'));
  assert.equal(srs.forward('', 'forward.test'), '');
  assert.equal(srs.forward('<>', 'forward.test'), '');
  assert.equal(srs.forward('postmaster', 'forward.test'), 'postmaster');
  assert.equal(srs.forward('bob@Forward.Test', 'forward.test'), 'bob@Forward.Test');
  assert.throws(() => createSrs(Buffer.alloc(0)), /secret/);
});
