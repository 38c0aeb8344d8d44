// src/queue/mtaSts.ts and src/repos/mtaSts.ts: MTA-STS discovery against real components on loopback: dnsmasq
// for the _mta-sts TXT records and the mta-sts.* host names, a real HTTPS server whose certificate a test CA
// (openssl) signed, and the policy cache in a migrated SQLite database. Covers fetching and caching (the server
// counts requests), id changes, the cache on failures, expiry, certificate names and trust, redirects, size,
// media type and time limits, mode none, TXT record rules, policy parsing and MX pattern matching.
import assert from 'node:assert/strict';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type TestContext, test } from 'node:test';
import { createResolver } from '../../src/dns/resolver.ts';
import { createMtaSts, MAX_AGE_S, type MtaStsStore, mxMatches, parsePolicy, parseTxt } from '../../src/queue/mtaSts.ts';
import { createMtaStsRepo } from '../../src/repos/mtaSts.ts';
import { testDb } from '../helpers/db.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { createTestCa } from '../helpers/testCa.ts';

const ENFORCE = 'version: STSv1\r\nmode: enforce\r\nmx: mx1.good.test\r\nmx: *.mx.good.test\r\nmax_age: 86400\r\n';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

const plain =
  (body: string, type = 'text/plain; charset=utf-8'): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': type });
    res.end(body);
  };

/** DNS records: every name under .test is answered by dnsmasq alone (NXDOMAIN when it has no record). */
function records(txt: Record<string, string | string[]>, hosts: string[]): string[] {
  return [
    'local=/test/',
    ...Object.entries(txt).flatMap(([domain, ids]) =>
      (Array.isArray(ids) ? ids : [ids]).map((v) => `txt-record=_mta-sts.${domain},"${v}"`),
    ),
    ...hosts.map((d) => `host-record=mta-sts.${d},127.0.0.1`),
  ];
}

const HOSTS = ['good.test', 'bad.test', 'redir.test', 'big.test', 'huge.test', 'html.test', 'none.test', 'slow.test'];

/** The HTTPS server for every mta-sts.* host (one certificate, every name but mta-sts.bad.test), and the rest. */
async function setup(t: TestContext) {
  const ca = createTestCa(t);
  if (!ca) return null;
  const { key, cert } = ca.issue(HOSTS.filter((h) => h !== 'bad.test').map((h) => `mta-sts.${h}`));
  const handlers = new Map<string, Handler>();
  const hits = new Map<string, number>();
  const server = createServer({ key, cert }, (req, res) => {
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    hits.set(host, (hits.get(host) ?? 0) + 1);
    const h = req.url === '/.well-known/mta-sts.txt' ? handlers.get(host) : undefined;
    if (h) h(req, res);
    else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const { db } = testDb(t);
  const store = createMtaStsRepo(db);
  const clock = { now: Date.UTC(2026, 11, 2, 12) };
  /** A fresh resolver on a fresh dnsmasq with `txt` records (so a test can change them), and an MTA-STS client. */
  const failures: string[] = [];
  /** Why the last discovery of `domain` failed. */
  const why = (domain: string) => failures.filter((f) => f.startsWith(`${domain} `)).at(-1) ?? '';
  const client = async (txt: Record<string, string | string[]>, over: { ca?: string | null } = {}) => {
    const dns = await startDnsmasq(t, records(txt, HOSTS));
    if (!dns) throw new Error('dnsmasq is needed (dnsmasq-base)');
    const resolver = createResolver({ servers: [dns.server], timeoutMs: 2000 });
    return createMtaSts({
      dns: resolver,
      store,
      port,
      ca: over.ca === null ? undefined : (over.ca ?? ca.cert),
      timeoutMs: 1000,
      now: () => clock.now,
      onFailure: (domain, reason) => failures.push(`${domain} ${reason}`),
    });
  };
  const count = (domain: string) => hits.get(`mta-sts.${domain}`) ?? 0;
  return { handlers, count, store, clock, client, port, why };
}

test('an enforce policy is fetched over HTTPS, stored, and then used from the cache while the id is the same', async (t) => {
  const s = await setup(t);
  if (!s) return;
  s.handlers.set('mta-sts.good.test', plain(ENFORCE));
  const sts = await s.client({ 'good.test': 'v=STSv1; id=20261202T1' });
  const policy = await sts.policyFor('Good.Test.');
  assert.deepEqual(policy, {
    id: '20261202T1',
    mode: 'enforce',
    mx: ['mx1.good.test', '*.mx.good.test'],
    maxAge: 86400,
    expiresAt: s.clock.now + 86_400_000,
  });
  assert.equal(s.count('good.test'), 1);
  assert.equal(s.store.get('good.test')?.policy_id, '20261202T1');

  s.clock.now += 3_600_000;
  assert.deepEqual(await sts.policyFor('good.test'), policy, 'from the cache');
  const both = await Promise.all([sts.policyFor('good.test'), sts.policyFor('good.test')]);
  assert.deepEqual(both, [policy, policy]);
  assert.equal(s.count('good.test'), 1, 'no second HTTPS request');

  // Another process (fresh resolver and client, same database): still no fetch.
  const again = await s.client({ 'good.test': 'v=STSv1; id=20261202T1' });
  assert.deepEqual(await again.policyFor('good.test'), policy);
  assert.equal(s.count('good.test'), 1, 'the stored policy survives a restart');
});

test('a new id refetches; then a failing fetch or a missing TXT record keeps the unexpired cached policy; expired: none', async (t) => {
  const s = await setup(t);
  if (!s) return;
  s.handlers.set('mta-sts.good.test', plain(ENFORCE));
  await (await s.client({ 'good.test': 'v=STSv1; id=one' })).policyFor('good.test');
  assert.equal(s.count('good.test'), 1);

  s.handlers.set('mta-sts.good.test', plain(ENFORCE.replace('mx: mx1.good.test\r\n', '').replace('86400', '604800')));
  const second = await (await s.client({ 'good.test': 'v=STSv1; id=two' })).policyFor('good.test');
  assert.equal(s.count('good.test'), 2, 'refetched for the new id');
  assert.deepEqual(second?.mx, ['*.mx.good.test']);
  assert.equal(second?.id, 'two');
  assert.equal(second?.maxAge, 604800);

  // A newer id, but the policy server fails: the cached policy stays in force (RFC 8461 5.1).
  s.handlers.set('mta-sts.good.test', (_req, res) => {
    res.writeHead(500);
    res.end();
  });
  const three = await s.client({ 'good.test': 'v=STSv1; id=three' });
  assert.deepEqual(await three.policyFor('good.test'), second);
  assert.match(s.why('good.test'), /HTTP 500/);
  assert.equal(s.count('good.test'), 3);
  // An invalid policy is a failure too.
  s.handlers.set('mta-sts.good.test', plain('version: STSv1\nmode: enforce\nmax_age: 1\n'));
  assert.deepEqual(await (await s.client({ 'good.test': 'v=STSv1; id=four' })).policyFor('good.test'), second);
  assert.match(s.why('good.test'), /invalid policy: no mx/);
  // The TXT record gone: the cached policy still applies.
  const noTxt = await s.client({});
  assert.deepEqual(await noTxt.policyFor('good.test'), second);
  assert.match(s.why('good.test'), /_mta-sts\.good\.test: .*ENOTFOUND/);

  // Past max_age, with the fetch still failing: no policy, and the stale row is dropped.
  s.clock.now += 604_800_001;
  assert.equal(await three.policyFor('good.test'), null);
  assert.equal(s.store.get('good.test'), undefined);
  assert.equal(await noTxt.policyFor('good.test'), null);
});

test('certificates: a name mismatch or an untrusted CA means no policy', async (t) => {
  const s = await setup(t);
  if (!s) return;
  s.handlers.set('mta-sts.bad.test', plain(ENFORCE));
  s.handlers.set('mta-sts.good.test', plain(ENFORCE));
  const sts = await s.client({ 'bad.test': 'v=STSv1; id=1', 'good.test': 'v=STSv1; id=1' });
  assert.equal(await sts.policyFor('bad.test'), null, 'certificate not valid for mta-sts.bad.test');
  assert.match(s.why('bad.test'), /does not match certificate's altnames/);
  assert.equal(s.count('bad.test'), 0, 'no request sent over the unverified connection');
  const untrusting = await s.client({ 'good.test': 'v=STSv1; id=1' }, { ca: null });
  assert.equal(await untrusting.policyFor('good.test'), null, "the test CA is not among Node's roots");
  assert.match(s.why('good.test'), /unable to (get local issuer|verify)/);
  assert.equal(s.count('good.test'), 0);
  assert.equal((await sts.policyFor('good.test'))?.mode, 'enforce', 'with the CA trusted it works');
});

test('redirects are not followed; oversized bodies, other media types and slow servers are rejected', async (t) => {
  const s = await setup(t);
  if (!s) return;
  s.handlers.set('mta-sts.good.test', plain(ENFORCE));
  s.handlers.set('mta-sts.redir.test', (_req, res) => {
    res.writeHead(301, { location: `https://mta-sts.good.test:${s.port}/.well-known/mta-sts.txt` });
    res.end();
  });
  // Valid policies but for their size (an extension field, otherwise ignored, makes them big).
  s.handlers.set('mta-sts.big.test', plain(`${ENFORCE}ext: ${'x'.repeat(70 * 1024)}\n`));
  s.handlers.set('mta-sts.huge.test', (_req, res) => {
    // Chunked, no Content-Length: the limit applies while reading.
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write(`${ENFORCE}ext: `);
    for (let i = 0; i < 70; i++) res.write('x'.repeat(1024));
    res.end('\n');
  });
  s.handlers.set('mta-sts.html.test', plain(ENFORCE, 'text/html'));
  s.handlers.set('mta-sts.slow.test', () => {});
  const txt = Object.fromEntries(HOSTS.map((h) => [h, 'v=STSv1; id=1']));
  const sts = await s.client(txt);
  assert.equal(await sts.policyFor('redir.test'), null);
  assert.match(s.why('redir.test'), /HTTP 301/);
  assert.equal(s.count('redir.test'), 1);
  assert.equal(s.count('good.test'), 0, 'the redirect target was never asked');
  assert.equal(await sts.policyFor('big.test'), null);
  assert.match(s.why('big.test'), /larger than 65536 bytes/);
  assert.equal(await sts.policyFor('huge.test'), null);
  assert.match(s.why('huge.test'), /larger than 65536 bytes/);
  assert.equal(await sts.policyFor('html.test'), null);
  assert.match(s.why('html.test'), /media type text\/html/);
  const started = Date.now();
  assert.equal(await sts.policyFor('slow.test'), null);
  assert.match(s.why('slow.test'), /timed out/);
  assert.ok(Date.now() - started < 3000, 'given up after timeoutMs');
  // Exactly at the limit is fine (an extension field, ignored).
  s.handlers.set('mta-sts.big.test', plain(`${ENFORCE}ext: ${'x'.repeat(64 * 1024 - ENFORCE.length - 6)}\n`));
  assert.equal((await sts.policyFor('big.test'))?.mode, 'enforce');
});

test('mode none and mode testing; TXT records that are not exactly one valid STSv1 record mean no fetch', async (t) => {
  const s = await setup(t);
  if (!s) return;
  s.handlers.set('mta-sts.none.test', plain('version: STSv1\nmode: none\nmax_age: 86400\n'));
  s.handlers.set('mta-sts.good.test', plain(ENFORCE.replace('enforce', 'testing')));
  const sts = await s.client({
    'none.test': 'v=STSv1; id=1',
    'good.test': ['v=STSv1; id=1', 'v=spf1 -all'],
    'big.test': ['v=STSv1; id=1', 'v=STSv1; id=2'],
    'html.test': 'v=STSv1; id=not-alnum',
    'huge.test': 'v=STSv2; id=1',
  });
  assert.equal(await sts.policyFor('none.test'), null);
  assert.equal(s.store.get('none.test')?.mode, 'none', 'mode none is cached too');
  assert.equal((await sts.policyFor('good.test'))?.mode, 'testing', 'other TXT records are ignored');
  await sts.policyFor('big.test');
  assert.match(s.why('big.test'), /2 STSv1 TXT records/);
  for (const d of ['big.test', 'html.test', 'huge.test', 'redir.test']) {
    assert.equal(await sts.policyFor(d), null, d);
    assert.equal(s.count(d), 0, d);
  }
});

test('the store: put replaces a domain row, get and delete', (t) => {
  const { db } = testDb(t);
  const store: MtaStsStore = createMtaStsRepo(db);
  const row = {
    domain: 'a.test',
    policy_id: '1',
    mode: 'enforce' as const,
    mx: ['mx.a.test'],
    max_age: 60,
    fetched_at: 1,
    expires_at: 60_001,
  };
  store.put(row);
  assert.deepEqual(store.get('a.test'), row);
  store.put({ ...row, policy_id: '2', mx: ['*.a.test', 'b.a.test'] });
  assert.deepEqual(store.get('a.test')?.mx, ['*.a.test', 'b.a.test']);
  assert.equal(store.get('a.test')?.policy_id, '2');
  store.delete('a.test');
  assert.equal(store.get('a.test'), undefined);
});

test('policy parsing: CRLF or LF, unknown keys ignored, first of a repeated key, max_age capped, invalid ones refused', () => {
  const lf = parsePolicy('version: STSv1\nmode: testing\nmx: MX.Example.com.\nmax_age: 123\nextension: x\n');
  assert.deepEqual(lf, { mode: 'testing', mx: ['mx.example.com'], maxAge: 123 });
  assert.deepEqual(parsePolicy('version:STSv1\r\nmode :enforce\r\nmode: none\r\nmx: *.a.example\r\nmax_age: 5'), {
    mode: 'enforce',
    mx: ['*.a.example'],
    maxAge: 5,
  });
  assert.deepEqual(parsePolicy('version: STSv1\nmode: none\nmax_age: 0\n'), { mode: 'none', mx: [], maxAge: 0 });
  assert.equal(
    (parsePolicy(`version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 99999999999\n`) as { maxAge?: number }).maxAge,
    undefined,
    'more than 10 digits: invalid',
  );
  assert.equal(
    (parsePolicy('version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 9999999999\n') as { maxAge: number }).maxAge,
    MAX_AGE_S,
  );
  for (const bad of [
    'mode: enforce\nmx: a.example\nmax_age: 1\n',
    'version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n',
    'version: STSv1\nmode: reject\nmx: a.example\nmax_age: 1\n',
    'version: STSv1\nmode: enforce\nmax_age: 1\n',
    'version: STSv1\nmode: enforce\nmx: a.example\n',
    'version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n',
    'version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n',
    'version: STSv1\nmode: enforce\nmx: *.*.example\nmax_age: 1\n',
    '<html>not a policy</html>',
  ])
    assert.ok('error' in parsePolicy(bad), bad);

  assert.deepEqual(parseTxt([['v=STSv1; id=abc123;']]), { id: 'abc123' });
  assert.deepEqual(parseTxt([['v=STSv1;', ' id=ab', 'c']]), { id: 'abc' }, 'strings of one record are joined');
  assert.deepEqual(parseTxt([['v=STSv1;id=1; ext=x'], ['other']]), { id: '1' });
  for (const bad of [
    [],
    [['v=STSv1']],
    [['v=STSv1; id=']],
    [['v=STSv1; id=1'], ['v=STSv1; id=2']],
    [['V=STSv1; id=1']],
  ])
    assert.ok('error' in parseTxt(bad), JSON.stringify(bad));
});

test('MX patterns (RFC 8461 4.1): exact, or a wildcard matching exactly one left-most label; case and final dot ignored', () => {
  const policy = { mx: ['mail.example.com', '*.mx.example.net'] };
  assert.ok(mxMatches(policy, 'mail.example.com'));
  assert.ok(mxMatches(policy, 'MAIL.Example.COM.'));
  assert.ok(mxMatches(policy, 'a.mx.example.net'));
  assert.ok(mxMatches(policy, 'B.MX.example.net.'));
  assert.ok(!mxMatches(policy, 'mx.example.net'), 'the wildcard needs a label');
  assert.ok(!mxMatches(policy, 'a.b.mx.example.net'), 'exactly one label');
  assert.ok(!mxMatches(policy, 'amx.example.net'));
  assert.ok(!mxMatches(policy, 'x.mail.example.com'), 'no implicit wildcard');
  assert.ok(!mxMatches(policy, 'example.com'));
  assert.ok(!mxMatches(policy, ''));
  assert.ok(!mxMatches({ mx: [] }, 'mail.example.com'));
});
