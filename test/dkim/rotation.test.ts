// DKIM key rotation (src/dkim/rotation.ts) through the admin API of a started server: GraphQL (Domain.dkimKeys,
// stageDkimKey, activateDkimKey, retireDkimKey), the REST shim (/api/domains/{name}/dkim) and the CLI (mailyard
// dkim, which calls the REST API). Cases: stage shows a DNS record and does not sign; activate swaps the keys at
// once (the very next signingKeyFor sees the new selector) and keeps the old one as retiring; mail signed with the
// old and with the new selector both verify (mailauth against dnsmasq publishing the records of the list, and
// dkimpy) until the old key is retired and its record dropped; error codes for an unknown domain or selector, a
// selector in use, retiring the active key, activating a key that is not staged, and invalid input.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { authenticate } from 'mailauth';
import type { CliIo } from '../../src/cli/io.ts';
import { main } from '../../src/cli/main.ts';
import { signingKeyFor, signMessage } from '../../src/dkim/sign.ts';
import { createResolver } from '../../src/dns/resolver.ts';
import { mailauthResolver } from '../../src/policy/mailauthResolver.ts';
import { dkimpyVerify, needDkimpy, txtRecordLine } from '../helpers/dkimpy.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { ok, TOKEN } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/server.ts';

const D = 'rot.test';
const KEY_FIELDS = 'selector status keyType keySize dnsName dnsRecord createdAt';
const RESULT = `__typename ... on DkimKey { ${KEY_FIELDS} } ... on NotFoundError { message entity key }
  ... on ConflictError { message code } ... on ValidationError { message fieldErrors { path message } }`;

async function rest(api: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

const listGql = async (api: string) =>
  (await ok(api, `query($d: String!) { domain(name: $d) { dkimKeys { ${KEY_FIELDS} } } }`, { d: D })).domain
    .dkimKeys as any[];

const mutate = async (api: string, field: string, args: string) =>
  (await ok(api, `mutation { ${field}(${args}) { ${RESULT} } }`))[field];

function message(n: number): Buffer {
  return Buffer.from(
    [
      `From: Alice <alice@${D}>`,
      'To: bob@elsewhere.test',
      `Subject: rotation ${n}`,
      'Date: Tue, 01 Dec 2026 10:00:00 +0000',
      `Message-ID: <r${n}@${D}>`,
      '',
      `Body ${n}.`,
      '',
    ].join('\r\n'),
  );
}

/** Signs with whatever key the domain signs with right now. */
async function signNow(app: any): Promise<{ selector: string; signed: Buffer }> {
  const key = signingKeyFor(app.repos.domains.get(D));
  assert.ok(key);
  const msg = message(Math.floor(Math.random() * 1e9));
  return { selector: key.selector, signed: Buffer.concat([Buffer.from(await signMessage(msg, [key])), msg]) };
}

/** Verdicts of mailauth (DNS from dnsmasq publishing `keys`) and dkimpy (same records) for each message. */
async function verdicts(t: TestContext, keys: { dnsName: string; dnsRecord: string }[], msgs: Buffer[]) {
  const dns = await startDnsmasq(t, ['local=/test/', ...keys.map((k) => txtRecordLine(k.dnsName, k.dnsRecord))], 0);
  if (!dns) return null;
  const resolver = mailauthResolver(createResolver({ servers: [dns.server], timeoutMs: 2000 }));
  const records = Object.fromEntries(keys.map((k) => [k.dnsName, k.dnsRecord]));
  const out: { mailauth: string; dkimpy: boolean }[] = [];
  for (const m of msgs) {
    const res = await authenticate(m, {
      ip: '192.0.2.1',
      helo: 'client.test',
      sender: `alice@${D}`,
      mta: 'mx.test',
      resolver,
      disableArc: true,
      disableBimi: true,
    });
    out.push({ mailauth: res.dkim.results[0]!.status.result, dkimpy: dkimpyVerify(m, records)[0]! });
  }
  return out;
}

test('stage -> activate -> both selectors verify -> retire, through GraphQL and REST', async (t) => {
  if (!needDkimpy(t)) return;
  const { api, app } = await startTestServer(t);
  assert.equal((await rest(api, 'POST', '/api/domains', { name: D })).status, 201);
  const initial = await listGql(api);
  assert.equal(initial.length, 1);
  const old = initial[0];
  assert.equal(old.status, 'ACTIVE');
  assert.equal(old.dnsName, `${old.selector}._domainkey.${D}`);
  assert.match(old.dnsRecord, /^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]+$/);
  assert.equal(old.createdAt, null);

  const staged = await mutate(api, 'stageDkimKey', `domain: "${D}", selector: "S2026.new", keyType: ED25519`);
  assert.equal(staged.__typename, 'DkimKey');
  assert.equal(staged.selector, 's2026.new', 'selectors are stored lower-case');
  assert.equal(staged.status, 'STAGED');
  assert.equal(staged.keyType, 'ED25519');
  assert.equal(staged.keySize, 256);
  assert.equal(staged.dnsName, `s2026.new._domainkey.${D}`);
  assert.match(staged.dnsRecord, /^v=DKIM1; k=ed25519; p=[A-Za-z0-9+/=]{44}$/);
  assert.ok(Date.parse(staged.createdAt) > 0);

  // Staged: listed with its record, but the active key still signs.
  const listed = await rest(api, 'GET', `/api/domains/${D}/dkim`);
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.body.map((k: any) => [k.selector, k.status, k.key_type]),
    [
      [old.selector, 'active', 'rsa'],
      ['s2026.new', 'staged', 'ed25519'],
    ],
  );
  assert.equal(listed.body[1].dns_record, staged.dnsRecord);
  const before = await signNow(app);
  assert.equal(before.selector, old.selector);

  const activated = await rest(api, 'POST', `/api/domains/${D}/dkim/s2026.new/activate`);
  assert.equal(activated.status, 200);
  assert.equal(activated.body.status, 'active');
  assert.equal(activated.body.dns_record, staged.dnsRecord);
  // The very next transaction signs with the new key (the domain cache was dropped with the commit).
  const after = await signNow(app);
  assert.equal(after.selector, 's2026.new');
  assert.equal(app.repos.domains.get(D)?.dkim_key_type, 'ed25519');

  const swapped = await listGql(api);
  assert.deepEqual(
    swapped.map((k) => [k.selector, k.status]),
    [
      ['s2026.new', 'ACTIVE'],
      [old.selector, 'RETIRING'],
    ],
  );
  assert.equal(swapped[1].dnsRecord, old.dnsRecord);

  // Both records published (from the list): both signatures verify.
  const both = await verdicts(t, swapped, [before.signed, after.signed]);
  if (!both) return;
  assert.deepEqual(both, [
    { mailauth: 'pass', dkimpy: true },
    { mailauth: 'pass', dkimpy: true },
  ]);

  const retired = await mutate(api, 'retireDkimKey', `domain: "${D}", selector: "${old.selector}"`);
  assert.equal(retired.__typename, 'DkimKey');
  assert.equal(retired.status, 'RETIRING');
  const remaining = await listGql(api);
  assert.deepEqual(
    remaining.map((k) => [k.selector, k.status]),
    [['s2026.new', 'ACTIVE']],
  );
  // Its record dropped: mail signed with the old key no longer verifies; the new key's still does.
  // (mailauth's lenient mode reports a missing key record as neutral.)
  const later = await verdicts(t, remaining, [before.signed, after.signed]);
  assert.deepEqual(later, [
    { mailauth: 'neutral', dkimpy: false },
    { mailauth: 'pass', dkimpy: true },
  ]);
});

test('error codes: unknown domain or selector, selector in use, retiring the active key, activating a non-staged key', async (t) => {
  const { api } = await startTestServer(t);
  assert.equal((await rest(api, 'POST', '/api/domains', { name: D })).status, 201);
  const active = (await listGql(api))[0].selector;

  // Unknown domain.
  const g1 = await mutate(api, 'stageDkimKey', 'domain: "nope.test", selector: "s1"');
  assert.equal(g1.__typename, 'NotFoundError');
  assert.equal(g1.entity, 'domain');
  assert.equal((await rest(api, 'GET', '/api/domains/nope.test/dkim')).body.error, 'not_found');
  assert.equal((await rest(api, 'GET', '/api/domains/nope.test/dkim')).status, 404);
  assert.equal((await rest(api, 'POST', '/api/domains/nope.test/dkim', { selector: 's1' })).status, 404);
  assert.equal((await ok(api, `{ domain(name: "nope.test") { dkimKeys { selector } } }`)).domain, null);

  // Staging: 201 over REST; the same selector again, or the active one, is a conflict.
  const s1 = await rest(api, 'POST', `/api/domains/${D}/dkim`, { selector: 's1', key_type: 'rsa', key_size: 1024 });
  assert.equal(s1.status, 201);
  assert.deepEqual([s1.body.status, s1.body.key_type, s1.body.key_size], ['staged', 'rsa', 1024]);
  assert.match(s1.body.dns_record, /^v=DKIM1; k=rsa; p=/);
  const dup = await rest(api, 'POST', `/api/domains/${D}/dkim`, { selector: 'S1' });
  assert.equal(dup.status, 409);
  assert.equal(dup.body.error, 'conflict');
  const dupActive = await mutate(api, 'stageDkimKey', `domain: "${D}", selector: "${active}"`);
  assert.equal(dupActive.__typename, 'ConflictError');
  assert.equal(dupActive.code, 'CONFLICT');

  // Invalid input names the field.
  const badSel = await mutate(api, 'stageDkimKey', `domain: "${D}", selector: "bad_selector;"`);
  assert.equal(badSel.__typename, 'ValidationError');
  assert.deepEqual(
    badSel.fieldErrors.map((e: any) => e.path),
    [['selector']],
  );
  const badSize = await mutate(api, 'stageDkimKey', `domain: "${D}", selector: "s9", keyType: RSA, keySize: 512`);
  assert.deepEqual(
    badSize.fieldErrors.map((e: any) => e.path),
    [['keySize']],
  );
  const restBad = await rest(api, 'POST', `/api/domains/${D}/dkim`, { selector: 's9', key_size: 512, colour: 'red' });
  assert.equal(restBad.status, 400);
  assert.deepEqual(restBad.body.fields.map((f: any) => f.field).sort(), ['colour']);
  const restBadSize = await rest(api, 'POST', `/api/domains/${D}/dkim`, { selector: 's9', key_size: 512 });
  assert.equal(restBadSize.status, 400);
  assert.deepEqual(
    restBadSize.body.fields.map((f: any) => f.field),
    ['key_size'],
  );
  assert.equal((await mutate(api, 'stageDkimKey', `domain: "_default", selector: "s9"`)).__typename, 'ValidationError');

  // The active key cannot be retired; an unknown selector is not found.
  const retireActive = await rest(api, 'DELETE', `/api/domains/${D}/dkim/${active}`);
  assert.equal(retireActive.status, 409);
  assert.match(retireActive.body.message, /active key/);
  assert.equal(
    (await mutate(api, 'retireDkimKey', `domain: "${D}", selector: "${active}"`)).__typename,
    'ConflictError',
  );
  assert.equal((await rest(api, 'DELETE', `/api/domains/${D}/dkim/zz`)).status, 404);
  assert.equal((await mutate(api, 'activateDkimKey', `domain: "${D}", selector: "zz"`)).__typename, 'NotFoundError');

  // Only a staged key can be activated: the active one, and a retiring one, are conflicts.
  assert.equal((await rest(api, 'POST', `/api/domains/${D}/dkim/${active}/activate`)).status, 409);
  assert.equal((await rest(api, 'POST', `/api/domains/${D}/dkim/s1/activate`)).status, 200);
  const again = await mutate(api, 'activateDkimKey', `domain: "${D}", selector: "${active}"`);
  assert.equal(again.__typename, 'ConflictError');
  assert.match(again.message, /retiring; only a staged key can be activated/);
  // A staged key may be retired (dropped) without ever signing.
  await mutate(api, 'stageDkimKey', `domain: "${D}", selector: "s2", keyType: ED25519`);
  const dropped = await rest(api, 'DELETE', `/api/domains/${D}/dkim/s2`);
  assert.equal(dropped.status, 200);
  assert.equal(dropped.body.status, 'staged');
  assert.deepEqual(
    (await listGql(api)).map((k) => [k.selector, k.status]),
    [
      ['s1', 'ACTIVE'],
      [active, 'RETIRING'],
    ],
  );
  // The OpenAPI document describes the routes.
  const doc = (await (await fetch(`${api}/api/openapi.json`)).json()) as any;
  assert.ok(doc.paths['/api/domains/{name}/dkim'].post.responses['201']);
  assert.ok(doc.paths['/api/domains/{name}/dkim/{selector}/activate'].post.responses['200']);
  assert.ok(doc.paths['/api/domains/{name}/dkim/{selector}'].delete);
});

function cliIo(): CliIo & { stdout: string; stderr: string } {
  const o = { stdout: '', stderr: '', env: {}, cwd: process.cwd() } as CliIo & { stdout: string; stderr: string };
  o.out = (s) => {
    o.stdout += s;
  };
  o.err = (s) => {
    o.stderr += s;
  };
  return o;
}

test('mailyard dkim list|stage|activate|retire talks to the running server and prints the records', async (t) => {
  const { api, dir } = await startTestServer(t);
  assert.equal((await rest(api, 'POST', '/api/domains', { name: D })).status, 201);
  const config = join(dir, 'mailyard.yaml');
  const run = async (...args: string[]) => {
    const io = cliIo();
    const code = await main(['dkim', ...args, '--config', config], io);
    return { code, ...io };
  };
  const staged = await run('stage', D, 'cli1', '--type', 'ed25519');
  assert.equal(staged.code, 0, staged.stderr);
  assert.match(staged.stdout, /staged cli1 \(ed25519 256\)/);
  assert.match(staged.stdout, /^cli1\._domainkey\.rot\.test\. IN TXT "v=DKIM1; k=ed25519; p=[^"]+"$/m);
  const list = await run('list', D);
  assert.equal(list.code, 0);
  assert.match(
    list.stdout,
    /^active {3}\S+ \(rsa 2048\)\n {2}\S+\._domainkey\.rot\.test\. IN TXT \( "v=DKIM1; k=rsa; p=/m,
  );
  assert.match(list.stdout, /^staged {3}cli1 \(ed25519 256, created /m);
  assert.equal((await run('activate', D, 'cli1')).code, 0);
  const conflict = await run('retire', D, 'cli1');
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /is the active key/);
  const usage = await run('activate', D);
  assert.equal(usage.code, 2);
  assert.match(usage.stderr, /usage: mailyard dkim/);
  const sizeOnList = await run('list', D, '--size', '2048');
  assert.equal(sizeOnList.code, 2);
});
