// src/queue/mx.ts against a real DNS server on loopback (dnsmasq): MX hosts in preference order with equal
// preferences shuffled, A then AAAA addresses, hosts without addresses skipped, implicit MX, NXDOMAIN, null MX,
// SERVFAIL and timeouts, address literals and IP-literal MX hosts.
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { test } from 'node:test';
import { createResolver } from '../../src/dns/resolver.ts';
import { resolveDestination } from '../../src/queue/mx.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { freePort } from '../helpers/ports.ts';

const RECORDS = [
  // Every name without a record is NXDOMAIN, never forwarded.
  'local=/test/',
  'mx-host=multi.test,b.multi.test,10',
  'mx-host=multi.test,a.multi.test,10',
  'mx-host=multi.test,c.multi.test,10',
  'mx-host=multi.test,backup.multi.test,20',
  'mx-host=multi.test,first.multi.test,5',
  'host-record=a.multi.test,127.0.0.1',
  'host-record=b.multi.test,127.0.0.2',
  'host-record=c.multi.test,127.0.0.3,fd00::3',
  'host-record=backup.multi.test,127.0.0.4',
  'host-record=first.multi.test,fd00::5',
  // An MX host with no address at all is skipped.
  'mx-host=skip.test,ghost.skip.test,10',
  'mx-host=skip.test,real.skip.test,20',
  'host-record=real.skip.test,127.0.0.6',
  // Every MX host without an address.
  'mx-host=dead.test,ghost.dead.test,10',
  // No MX: the implicit MX.
  'host-record=implicit.test,127.0.0.7,fd00::7',
  // Neither MX nor address (the name exists: it has a TXT record).
  'txt-record=empty.test,"v=spf1 -all"',
  // Null MX (RFC 7505).
  'mx-host=nullmx.test,.,0',
  // An MX host that is an IP literal.
  'mx-host=literal.test,127.0.0.8,10',
];

async function setup(t: import('node:test').TestContext, extra: string[] = []) {
  const dns = await startDnsmasq(t, [...RECORDS, ...extra]);
  if (!dns) return null;
  return createResolver({ servers: [dns.server], timeoutMs: 1500 });
}

test('MX hosts in preference order, equal preferences shuffled by the random source; A then AAAA', async (t) => {
  const r = await setup(t);
  if (!r) return;
  const low = await resolveDestination(r, 'multi.test', { random: () => 0 });
  const high = await resolveDestination(r, 'Multi.Test.', { random: () => 0.999 });
  assert.equal(low.kind, 'hosts');
  assert.equal(high.kind, 'hosts');
  if (low.kind !== 'hosts' || high.kind !== 'hosts') return;
  assert.equal(low.implicit, false);
  assert.deepEqual(
    low.hosts.map((h) => h.priority),
    [5, 10, 10, 10, 20],
  );
  assert.equal(low.hosts[0]!.name, 'first.multi.test');
  assert.deepEqual(low.hosts[0]!.addresses, ['fd00::5'], 'an AAAA-only host');
  assert.equal(low.hosts[4]!.name, 'backup.multi.test');
  const mid = (d: typeof low) => d.hosts.slice(1, 4).map((h) => h.name);
  assert.deepEqual([...mid(low)].sort(), ['a.multi.test', 'b.multi.test', 'c.multi.test']);
  assert.deepEqual([...mid(high)].sort(), ['a.multi.test', 'b.multi.test', 'c.multi.test']);
  assert.notDeepEqual(mid(low), mid(high), 'a different random source, a different order');
  const c = low.hosts.find((h) => h.name === 'c.multi.test')!;
  assert.deepEqual(c.addresses, ['127.0.0.3', 'fd00::3'], 'A first, then AAAA');

  // Over many draws of Math.random every one of the three comes first at least once.
  const firsts = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const d = await resolveDestination(r, 'multi.test');
    if (d.kind === 'hosts') firsts.add(d.hosts[1]!.name);
  }
  assert.equal(firsts.size, 3, [...firsts].join());
});

test('hosts without addresses are skipped; none with an address is a temporary failure', async (t) => {
  const r = await setup(t);
  if (!r) return;
  assert.deepEqual(await resolveDestination(r, 'skip.test'), {
    kind: 'hosts',
    hosts: [{ name: 'real.skip.test', priority: 20, addresses: ['127.0.0.6'] }],
    implicit: false,
  });
  const dead = await resolveDestination(r, 'dead.test');
  assert.equal(dead.kind, 'temporary');
  assert.match((dead as { reason: string }).reason, /ghost\.dead\.test/);
});

test('no MX records: the domain itself (implicit MX); neither MX nor address, or NXDOMAIN: permanent 5.1.2', async (t) => {
  const r = await setup(t);
  if (!r) return;
  assert.deepEqual(await resolveDestination(r, 'implicit.test'), {
    kind: 'hosts',
    hosts: [{ name: 'implicit.test', priority: 0, addresses: ['127.0.0.7', 'fd00::7'] }],
    implicit: true,
  });
  const empty = await resolveDestination(r, 'empty.test');
  assert.equal(empty.kind, 'permanent');
  assert.equal((empty as { enhanced: string }).enhanced, '5.1.2');
  const nx = await resolveDestination(r, 'nosuch.test');
  assert.equal(nx.kind, 'permanent');
  assert.equal((nx as { enhanced: string }).enhanced, '5.1.2');
  assert.match((nx as { reason: string }).reason, /does not exist/);
});

test('a null MX (RFC 7505) is reported as such', async (t) => {
  const r = await setup(t);
  if (!r) return;
  assert.deepEqual(await resolveDestination(r, 'nullmx.test'), { kind: 'nullmx' });
});

test('SERVFAIL and timeouts are temporary', async (t) => {
  const port = await freePort();
  // dnsmasq forwards servfail.test to a port where nothing listens and answers SERVFAIL/REFUSED.
  const r = await setup(t, [`server=/servfail.test/127.0.0.1#${port}`]);
  if (!r) return;
  const sf = await resolveDestination(r, 'servfail.test');
  assert.equal(sf.kind, 'temporary', JSON.stringify(sf));

  // A DNS server that never answers.
  const silent = createSocket('udp4');
  await new Promise<void>((res) => silent.bind(0, '127.0.0.1', res));
  t.after(() => silent.close());
  const quiet = createResolver({ servers: [`127.0.0.1:${silent.address().port}`], timeoutMs: 200 });
  const to = await resolveDestination(quiet, 'example.test');
  assert.equal(to.kind, 'temporary');
  assert.match((to as { reason: string }).reason, /ETIMEOUT/);
});

test('address literals are used as they are, without DNS; so are MX hosts that are IP literals', async (t) => {
  const r = await setup(t);
  if (!r) return;
  assert.deepEqual(await resolveDestination(r, '[127.0.0.9]'), {
    kind: 'hosts',
    hosts: [{ name: '[127.0.0.9]', priority: 0, addresses: ['127.0.0.9'] }],
    implicit: true,
  });
  const v6 = await resolveDestination(r, '[IPv6:::1]');
  assert.deepEqual(v6.kind === 'hosts' && v6.hosts[0]!.addresses, ['::1']);
  for (const bad of ['[300.1.1.1]', '[IPv6:127.0.0.1]', '[::1]']) {
    const d = await resolveDestination(r, bad);
    assert.equal(d.kind, 'permanent', bad);
  }
  assert.deepEqual(await resolveDestination(r, 'literal.test'), {
    kind: 'hosts',
    hosts: [{ name: '127.0.0.8', priority: 10, addresses: ['127.0.0.8'] }],
    implicit: false,
  });
});
