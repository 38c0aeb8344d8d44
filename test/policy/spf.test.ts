// SPF at MAIL FROM time (src/policy/spf.ts) and mailauth's view of the project resolver (mailauthResolver.ts),
// against a real DNS server on loopback (dnsmasq) publishing the records: pass, fail (-all, with exp=),
// softfail (~all), none (no record, and no domain at all: NXDOMAIN is none, never temperror), the null sender's
// HELO identity, the domain's spf_max_lookups (an include chain beyond it is permerror), a dead DNS server
// (temperror), and the early decision from the recipient domain's settings.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { domainDefaults } from '../../schema/db/domain-defaults.ts';
import { createResolver } from '../../src/dns/resolver.ts';
import { decideSpfEarly } from '../../src/policy/authDecision.ts';
import { mailauthResolver } from '../../src/policy/mailauthResolver.ts';
import { checkSpf } from '../../src/policy/spf.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { freePort } from '../helpers/ports.ts';

const HOST = 'mx.mailyard.test';
const GOOD = '192.0.2.10';
const BAD = '198.51.100.7';

const RECORDS = [
  'local=/test/',
  `txt-record=pass.test,"v=spf1 ip4:192.0.2.0/24 -all"`,
  `txt-record=fail.test,"v=spf1 ip4:192.0.2.0/24 -all exp=why.fail.test"`,
  `txt-record=why.fail.test,"%{i} is not a server of %{d}"`,
  `txt-record=soft.test,"v=spf1 ip4:192.0.2.0/24 ~all"`,
  'host-record=norecord.test,192.0.2.99',
  `txt-record=helo.pass.test,"v=spf1 a -all"`,
  'host-record=helo.pass.test,192.0.2.10',
  // A chain of includes: chain.test -> c1 -> c2 -> ... -> c6 (6 lookups; the last one holds the address).
  `txt-record=chain.test,"v=spf1 include:c1.chain.test -all"`,
  ...[1, 2, 3, 4, 5].map((n) => `txt-record=c${n}.chain.test,"v=spf1 include:c${n + 1}.chain.test -all"`),
  `txt-record=c6.chain.test,"v=spf1 ip4:192.0.2.0/24 -all"`,
];

const settings = {
  spf_enabled: true,
  spf_fail_action: domainDefaults.spf_fail_action,
  spf_softfail_action: domainDefaults.spf_softfail_action,
  dkim_verify_enabled: true,
  dmarc_enabled: true,
} as const;

test('pass, fail with the domain explanation, softfail, none; the early decision follows the domain settings', async (t) => {
  const dns = await startDnsmasq(t, RECORDS);
  if (!dns) return;
  const resolver = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  const spf = (ip: string, sender: string, helo = 'client.example') =>
    checkSpf({ resolver, ip, helo, sender, hostname: HOST, maxLookups: 10 });

  const pass = await spf(GOOD, 'alice@pass.test');
  assert.equal(pass.result, 'pass');
  assert.equal(pass.domain, 'pass.test');
  assert.match(pass.info, /^spf=pass .*smtp\.mailfrom=alice@pass\.test/);
  assert.match(pass.receivedSpf, /^Received-SPF: pass/);
  assert.equal(decideSpfEarly(pass, settings)?.action, 'accept');

  const fail = await spf(BAD, 'alice@fail.test');
  assert.equal(fail.result, 'fail');
  assert.equal(fail.explanation, `${BAD} is not a server of fail.test`);
  const early = decideSpfEarly(fail, settings)!;
  assert.deepEqual(
    [early.check, early.action, early.reason, early.text],
    ['spf', 'reject', 'spf_fail', fail.explanation],
  );
  assert.equal(decideSpfEarly(fail, { ...settings, spf_fail_action: 'quarantine' })?.action, 'quarantine');
  assert.equal(decideSpfEarly(fail, { ...settings, spf_fail_action: 'tag' })?.action, 'tag');
  assert.equal(decideSpfEarly(fail, { ...settings, spf_enabled: false }), null);

  const soft = await spf(BAD, 'alice@soft.test');
  assert.equal(soft.result, 'softfail');
  assert.equal(decideSpfEarly(soft, settings)?.action, 'accept', 'the default softfail action');
  const softReject = decideSpfEarly(soft, { ...settings, spf_softfail_action: 'reject' })!;
  assert.deepEqual([softReject.action, softReject.reason], ['reject', 'spf_softfail']);

  assert.equal((await spf(BAD, 'alice@norecord.test')).result, 'none', 'a domain without a TXT record');
  const nx = await spf(BAD, 'alice@nosuch.test');
  assert.equal(nx.result, 'none', 'NXDOMAIN is none, not temperror');
  assert.equal(decideSpfEarly(nx, settings)?.action, 'accept');

  // The null sender: the HELO name is the identity (RFC 7208 2.4).
  const bounce = await spf(GOOD, '', 'helo.pass.test');
  assert.deepEqual([bounce.result, bounce.identity, bounce.domain], ['pass', 'helo', 'helo.pass.test']);
});

test("spf_max_lookups: an include chain within the domain's limit passes, beyond it is permerror", async (t) => {
  const dns = await startDnsmasq(t, RECORDS);
  if (!dns) return;
  const resolver = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  const spf = (maxLookups: number) =>
    checkSpf({ resolver, ip: GOOD, helo: 'client.example', sender: 'a@chain.test', hostname: HOST, maxLookups });
  const within = await spf(10);
  assert.equal(within.result, 'pass');
  assert.equal(within.lookups?.count, 6);
  const beyond = await spf(5);
  assert.equal(beyond.result, 'permerror');
  assert.match(beyond.comment, /Too many DNS requests/);
  assert.equal(decideSpfEarly(beyond, settings)?.action, 'accept', 'permerror is reported, not refused');
});

test('a DNS server that does not answer is temperror (accepted, reported)', async () => {
  const port = await freePort();
  const resolver = createResolver({ servers: [`127.0.0.1:${port}`], timeoutMs: 300 });
  const r = await checkSpf({ resolver, ip: BAD, helo: 'x.example', sender: 'a@pass.test', hostname: HOST });
  assert.equal(r.result, 'temperror');
  assert.equal(decideSpfEarly(r, settings)?.reason, 'spf_temperror');
  assert.equal(decideSpfEarly(r, settings)?.action, 'accept');
});

test("the adapter: Node's shapes and codes, copies of cached answers, bad names and types refused without a query", async (t) => {
  const dns = await startDnsmasq(t, [
    'local=/test/',
    'mx-host=mx.test,mx1.mx.test,10',
    'host-record=mx1.mx.test,192.0.2.1',
    `txt-record=mx.test,"a","b"`,
  ]);
  if (!dns) return;
  const lookup = mailauthResolver(createResolver({ servers: [dns.server], timeoutMs: 2000 }));
  assert.deepEqual(await lookup('mx.test', 'TXT'), [['a', 'b']]);
  const mx = (await lookup('mx.test', 'MX')) as unknown as { exchange: string; priority: number }[];
  assert.deepEqual(mx, [{ exchange: 'mx1.mx.test', priority: 10 }]);
  mx[0]!.priority = 99;
  assert.deepEqual(
    await lookup('mx.test', 'MX'),
    [{ exchange: 'mx1.mx.test', priority: 10 }],
    'the cache is untouched',
  );
  await assert.rejects(lookup('nosuch.test', 'TXT'), { code: 'ENOTFOUND' });
  await assert.rejects(lookup('mx1.mx.test', 'TXT'), { code: 'ENODATA' });
  await assert.rejects(lookup(`${'a'.repeat(64)}.test`, 'TXT'), { code: 'EBADNAME' });
  await assert.rejects(lookup('mx.test', 'SRV'), { code: 'ENOTIMP' });
  assert.equal(dns.queries(`${'a'.repeat(64)}.test`), 0);
});
