// The one resolver (src/dns/resolver.ts) against a real DNS server on loopback (dnsmasq) whose records each test
// sets: record types and shapes, CNAME following, TCP after a truncated UDP answer, TTL-bound positive and negative
// caching (with a moved clock), one query in flight per name and type, server fall-through and timeouts.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { createResolver, parseServer, reverseName } from '../../src/dns/resolver.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';

const LONG = 'k'.repeat(250);

const RECORDS = [
  'local=/mail.test/',
  'host-record=mx1.mail.test,127.0.0.10',
  'host-record=both.mail.test,127.0.0.11,fd00::11',
  'mx-host=mail.test,mx1.mail.test,10',
  'mx-host=mail.test,mx2.mail.test,20',
  'txt-record=mail.test,"v=spf1 ip4:127.0.0.0/8 -all"',
  'txt-record=_dmarc.mail.test,"v=DMARC1; p=reject"',
  // Three records of two 250-byte strings: more than a 1232-byte UDP answer holds, so it comes truncated and is
  // asked again over TCP (one record a line: dnsmasq limits the length of a configuration line).
  ...[1, 2, 3].map((n) => `txt-record=big.mail.test,"${n}${LONG}","${LONG}"`),
  'cname=alias.mail.test,mx1.mail.test',
  'ptr-record=10.0.0.127.in-addr.arpa,mx1.mail.test',
];

test('record types in node:dns shapes, CNAMEs followed, reverse lookups; unknown names ENOTFOUND, missing types ENODATA', async (t) => {
  const dns = await startDnsmasq(t, RECORDS);
  if (!dns) return;
  const r = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  assert.deepEqual(await r.resolve4('mx1.mail.test'), ['127.0.0.10']);
  assert.deepEqual(await r.resolve6('both.mail.test'), ['fd00::11']);
  assert.deepEqual(
    (await r.resolveMx('mail.test')).sort((a, b) => a.priority - b.priority),
    [
      { exchange: 'mx1.mail.test', priority: 10 },
      { exchange: 'mx2.mail.test', priority: 20 },
    ],
  );
  assert.deepEqual(await r.resolveTxt('_dmarc.mail.test'), [['v=DMARC1; p=reject']]);
  assert.deepEqual(await r.resolve4('alias.mail.test'), ['127.0.0.10'], 'through the CNAME');
  assert.deepEqual(await r.reverse('127.0.0.10'), ['mx1.mail.test']);
  await assert.rejects(r.resolve4('nosuch.mail.test'), { code: 'ENOTFOUND' });
  await assert.rejects(r.resolveTxt('mx1.mail.test'), { code: 'ENODATA' });
});

test('an answer too big for UDP arrives truncated and is fetched again over TCP', async (t) => {
  const dns = await startDnsmasq(t, RECORDS);
  if (!dns) return;
  const r = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  const txt = await r.resolveTxt('big.mail.test');
  assert.deepEqual(
    txt.sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    [1, 2, 3].map((n) => [`${n}${LONG}`, LONG]),
  );
  assert.equal(dns.queries('big.mail.test', 'TXT'), 2, 'once over UDP, once over TCP');
});

test('answers are cached for their TTL, negative answers too; concurrent lookups share one query', async (t) => {
  const dns = await startDnsmasq(t, RECORDS, 60);
  if (!dns) return;
  let clock = 1_000_000;
  const r = createResolver({ servers: [dns.server], timeoutMs: 2000, now: () => clock });
  const all = await Promise.all(Array.from({ length: 10 }, () => r.resolveTxt('mail.test')));
  for (const a of all) assert.deepEqual(a, [['v=spf1 ip4:127.0.0.0/8 -all']]);
  assert.equal(dns.queries('mail.test', 'TXT'), 1, 'ten concurrent lookups, one query');
  clock += 59_000;
  await r.resolveTxt('mail.test');
  assert.equal(dns.queries('mail.test', 'TXT'), 1, 'within the TTL: from the cache');
  clock += 2_000;
  await r.resolveTxt('mail.test');
  assert.equal(dns.queries('mail.test', 'TXT'), 2, 'after the TTL: asked again');

  await assert.rejects(r.resolve4('gone.mail.test'), { code: 'ENOTFOUND' });
  await assert.rejects(r.resolve4('gone.mail.test'), { code: 'ENOTFOUND' });
  assert.equal(dns.queries('gone.mail.test', 'A'), 1, 'NXDOMAIN cached');
  clock += 3_600_001;
  await assert.rejects(r.resolve4('gone.mail.test'), { code: 'ENOTFOUND' });
  assert.equal(dns.queries('gone.mail.test', 'A'), 2, 'the negative entry expires');
});

test('the cache is bounded: the least recently used name goes first', async (t) => {
  const dns = await startDnsmasq(t, RECORDS);
  if (!dns) return;
  const r = createResolver({ servers: [dns.server], timeoutMs: 2000, maxEntries: 2 });
  await r.resolve4('mx1.mail.test');
  await r.resolveTxt('mail.test');
  await r.resolve4('mx1.mail.test'); // now the most recently used
  await r.resolveMx('mail.test'); // evicts TXT mail.test
  assert.equal(r.cacheSize, 2);
  await r.resolve4('mx1.mail.test');
  assert.equal(dns.queries('mx1.mail.test', 'A'), 1, 'kept');
  await r.resolveTxt('mail.test');
  assert.equal(dns.queries('mail.test', 'TXT'), 2, 'evicted, asked again');
});

test('a server that does not answer times out after dns.timeout, and the next server is asked', async (t) => {
  const dns = await startDnsmasq(t, RECORDS);
  if (!dns) return;
  // A UDP socket that receives queries and never answers.
  const silent = createSocket('udp4');
  await new Promise<void>((resolve) => silent.bind(0, '127.0.0.1', resolve));
  t.after(() => silent.close());
  const deaf = `127.0.0.1:${silent.address().port}`;
  const alone = createResolver({ servers: [deaf], timeoutMs: 300 });
  const t0 = Date.now();
  await assert.rejects(alone.resolve4('mx1.mail.test'), { code: 'ETIMEOUT' });
  const waited = Date.now() - t0;
  assert.ok(waited >= 290, `gave up after ${waited} ms, not before the timeout`);
  const both = createResolver({ servers: [deaf, dns.server], timeoutMs: 300 });
  assert.deepEqual(await both.resolve4('mx1.mail.test'), ['127.0.0.10']);
});

test('server entries and reverse names', () => {
  assert.deepEqual(parseServer('127.0.0.1'), { host: '127.0.0.1', port: 53 });
  assert.deepEqual(parseServer('127.0.0.1:5353'), { host: '127.0.0.1', port: 5353 });
  assert.deepEqual(parseServer('[::1]:5353'), { host: '::1', port: 5353 });
  assert.deepEqual(parseServer('::1'), { host: '::1', port: 53 });
  assert.equal(reverseName('192.0.2.1'), '1.2.0.192.in-addr.arpa');
  assert.equal(reverseName('2001:db8::1'), '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa');
});
