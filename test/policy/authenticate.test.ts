// DKIM, DMARC and ARC on a spooled message (src/policy/authenticate.ts) and what the recipient domain's settings
// make of them (src/policy/authDecision.ts), against dnsmasq publishing SPF, DKIM and DMARC records. Signatures
// and ARC seals come from an independent implementation (dkimpy, test/helpers/dkimpy.ts), never from mailauth.
// Cases: an aligned valid signature passes DMARC despite an SPF fail; a tampered body fails DKIM and so DMARC
// (p=reject -> reject, without reject from DKIM alone); an unaligned valid signature under p=quarantine ->
// quarantine; SPF alignment alone passes; p=none fails are accepted; an ARC chain verifies, a broken one fails;
// the Authentication-Results line names our host and every method; a precomputed SPF outcome is used as given.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { domainDefaults } from '../../schema/db/domain-defaults.ts';
import { createResolver } from '../../src/dns/resolver.ts';
import { decide } from '../../src/policy/authDecision.ts';
import { READ_WHOLE_MAX, verifyMessage } from '../../src/policy/authenticate.ts';
import type { SpfOutcome } from '../../src/policy/spf.ts';
import { combine } from '../../src/policy/verdict.ts';
import { arcSeal, type DkimKey, dkimSign, makeKey, needDkimpy } from '../helpers/dkimpy.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';

const HOST = 'mx.mailyard.test';
const GOOD = '192.0.2.10';
const BAD = '198.51.100.7';

let dir = '';
const keys: Record<string, DkimKey> = {};
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailyard-auth-'));
  for (const d of ['rej.test', 'quar.test', 'none.test', 'third.test', 'relay.test']) keys[d] = makeKey(dir, 's1', d);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const records = () => [
  'local=/test/',
  ...['rej.test', 'quar.test', 'none.test', 'third.test', 'relay.test'].map(
    (d) => `txt-record=${d},"v=spf1 ip4:192.0.2.0/24 -all"`,
  ),
  'txt-record=_dmarc.rej.test,"v=DMARC1; p=reject"',
  'txt-record=_dmarc.quar.test,"v=DMARC1; p=quarantine"',
  'txt-record=_dmarc.none.test,"v=DMARC1; p=none"',
  ...Object.values(keys).map((k) => k.record),
];

function message(from: string, body = 'Hello.\r\n'): string {
  return [
    `From: Alice <alice@${from}>`,
    'To: bob@mailyard.test',
    'Subject: authentication test',
    'Date: Mon, 30 Nov 2026 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@${from}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
  ].join('\r\n');
}

const settings = {
  spf_enabled: true,
  spf_fail_action: 'accept',
  spf_softfail_action: 'accept',
  dkim_verify_enabled: true,
  dmarc_enabled: true,
} as const;

async function setup(t: import('node:test').TestContext) {
  if (!needDkimpy(t)) return null;
  const dns = await startDnsmasq(t, records());
  if (!dns) return null;
  const resolver = createResolver({ servers: [dns.server], timeoutMs: 2000 });
  const spool = (bytes: Buffer | string) => {
    const path = join(dir, `${Math.random().toString(36).slice(2)}.eml`);
    writeFileSync(path, bytes);
    return path;
  };
  const verify = (msg: Buffer | string, tx: { ip: string; sender: string; spf?: SpfOutcome }) =>
    verifyMessage(spool(msg), { resolver, helo: 'client.example', hostname: HOST, ...tx });
  return { dns, resolver, verify };
}

test('an aligned valid signature passes DMARC although SPF fails; the header names our host and each method', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const signed = dkimSign(message('rej.test', 'x'.repeat(10_000)), keys['rej.test']!);
  const out = await s.verify(signed, { ip: BAD, sender: 'bounce@rej.test' });
  assert.deepEqual(
    out.dkim.map((d) => [d.result, d.domain, d.selector]),
    [['pass', 'rej.test', 's1']],
  );
  assert.equal(out.spf.result, 'fail');
  assert.equal(out.arc.result, 'none');
  assert.deepEqual(out.dmarc, {
    result: 'pass',
    domain: 'rej.test',
    policy: 'reject',
    published: 'reject',
    passed: true,
    aligned: { dkim: 'rej.test' },
  });
  assert.match(out.authResults, /^Authentication-Results: mx\.mailyard\.test;\r\n /);
  // dkimpy signs with i=@rej.test, which mailauth reports instead of d=; arc= appears only for an ARC set.
  for (const m of [/dkim=pass [^;]*header\.i=@rej\.test/, /spf=fail /, /dmarc=pass [^;]*header\.from=rej\.test/])
    assert.match(out.authResults, m);
  assert.doesNotMatch(out.authResults, /;\s*arc=/);
  assert.ok(out.authResults.split('\r\n').every((l) => l.length <= 998 && !/\s$/.test(l)));

  const results = decide(out, settings);
  assert.deepEqual(
    results.map((r) => [r.check, r.action, r.reason]),
    [
      ['spf', 'accept', 'spf_fail'],
      ['dkim', 'accept', 'dkim_pass'],
      ['arc', 'accept', 'arc_none'],
      ['dmarc', 'accept', 'dmarc_pass'],
    ],
  );
  assert.deepEqual(combine(results).headers, [out.authResults], 'one Authentication-Results line');
  // The SPF settings still apply on their own: a domain rejecting SPF fails rejects this message.
  const strict = combine(decide(out, { ...settings, spf_fail_action: domainDefaults.spf_fail_action }));
  assert.deepEqual([strict.action, strict.decisive?.reason], ['reject', 'spf_fail']);
});

test('a tampered body fails DKIM and so DMARC: p=reject rejects; DKIM alone never does', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const signed = dkimSign(message('rej.test', 'Pay 10 EUR.\r\n'), keys['rej.test']!);
  const tampered = Buffer.from(signed.toString('latin1').replace('Pay 10 EUR', 'Pay 99 EUR'), 'latin1');
  const out = await s.verify(tampered, { ip: BAD, sender: 'bounce@rej.test' });
  // mailauth's lenient mode reports a body hash mismatch as neutral (fail only in its strict mode).
  assert.deepEqual([out.dkim[0]?.result, out.dkim[0]?.comment], ['neutral', 'body hash did not verify']);
  assert.equal(out.dmarc?.result, 'fail');
  assert.match(out.authResults, /dkim=neutral \(body hash did not verify\)/);
  const v = combine(decide(out, settings));
  assert.deepEqual([v.action, v.decisive?.check, v.decisive?.reason], ['reject', 'dmarc', 'dmarc_reject']);
  assert.equal(v.decisive?.detail?.domain, 'rej.test', 'the SMTP reply names the policy domain');
  const noDmarc = combine(decide(out, { ...settings, dmarc_enabled: false }));
  assert.equal(noDmarc.action, 'accept', 'a failed signature alone is reported, not refused');
  assert.deepEqual(noDmarc.headers, [out.authResults]);
});

test('an unaligned valid signature under p=quarantine quarantines; SPF alignment alone passes; p=none accepts', async (t) => {
  const s = await setup(t);
  if (!s) return;
  // Signed by a third party, From quar.test, SPF fail: no identifier aligns.
  const third = await s.verify(dkimSign(message('quar.test'), keys['third.test']!), { ip: BAD, sender: 'x@quar.test' });
  assert.deepEqual(
    third.dkim.map((d) => [d.result, d.domain]),
    [['pass', 'third.test']],
  );
  assert.deepEqual([third.dmarc?.result, third.dmarc?.policy, third.dmarc?.aligned], ['fail', 'quarantine', {}]);
  const v = combine(decide(third, settings));
  assert.deepEqual([v.action, v.decisive?.reason], ['quarantine', 'dmarc_quarantine']);

  // Unsigned, but the MAIL FROM domain is the author domain and SPF passes.
  const spfOnly = await s.verify(message('quar.test'), { ip: GOOD, sender: 'x@quar.test' });
  assert.deepEqual(spfOnly.dkim, []);
  assert.deepEqual([spfOnly.dmarc?.result, spfOnly.dmarc?.aligned], ['pass', { spf: 'quar.test' }]);
  assert.equal(combine(decide(spfOnly, settings)).action, 'accept');
  assert.match(spfOnly.authResults, /dkim=none/);

  // Unaligned SPF pass (sender third.test) and no signature, under p=reject: fails.
  const unaligned = await s.verify(message('rej.test'), { ip: GOOD, sender: 'x@third.test' });
  assert.deepEqual([unaligned.spf.result, unaligned.dmarc?.result], ['pass', 'fail']);
  assert.equal(combine(decide(unaligned, settings)).decisive?.reason, 'dmarc_reject');

  const none = await s.verify(message('none.test'), { ip: BAD, sender: 'x@none.test' });
  assert.deepEqual([none.dmarc?.result, none.dmarc?.policy], ['fail', 'none']);
  const nv = combine(decide(none, settings));
  assert.equal(nv.action, 'accept');
  assert.equal(nv.results.find((r) => r.check === 'dmarc')?.reason, 'dmarc_fail');
});

test('an ARC chain sealed by another implementation verifies; a body changed after sealing fails it', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const original = dkimSign(message('none.test', 'Forwarded through a list.\r\n'), keys['none.test']!);
  const withAr = Buffer.concat([
    Buffer.from(
      'Authentication-Results: relay.test; dkim=pass header.d=none.test; spf=pass smtp.mailfrom=none.test\r\n',
    ),
    original,
  ]);
  const sealed = arcSeal(withAr, keys['relay.test']!, 'relay.test');
  const ok = await s.verify(sealed, { ip: BAD, sender: 'list@third.test' });
  assert.deepEqual(ok.arc, { result: 'pass', instance: 1 });
  assert.match(ok.authResults, /arc=pass/);
  assert.equal(decide(ok, settings).find((r) => r.check === 'arc')?.reason, 'arc_pass');

  const broken = Buffer.from(sealed.toString('latin1').replace('through a list', 'through a liar'), 'latin1');
  const bad = await s.verify(broken, { ip: BAD, sender: 'list@third.test' });
  assert.equal(bad.arc.result, 'fail');
  assert.match(bad.authResults, /arc=fail/);
});

test('a spool file over 256 KiB is streamed, with the same results as a small one read whole', async (t) => {
  const s = await setup(t);
  if (!s) return;
  const big = dkimSign(message('rej.test', `${'y'.repeat(998)}\r\n`.repeat(300)), keys['rej.test']!);
  assert.ok(big.length > READ_WHOLE_MAX);
  const out = await s.verify(big, { ip: GOOD, sender: 'x@rej.test' });
  assert.deepEqual([out.dkim[0]?.result, out.spf.result, out.dmarc?.result], ['pass', 'pass', 'pass']);
  const cut = Buffer.from(big.toString('latin1').replace(/y\r\n$/, 'z\r\n'), 'latin1');
  assert.equal((await s.verify(cut, { ip: GOOD, sender: 'x@rej.test' })).dkim[0]?.result, 'neutral');
});

test("the transaction's SPF outcome is used as given (not evaluated again); a stream works like a path", async (t) => {
  const s = await setup(t);
  if (!s) return;
  const given: SpfOutcome = {
    result: 'pass',
    domain: 'rej.test',
    identity: 'mailfrom',
    comment: 'computed at MAIL FROM',
    info: 'spf=pass (computed at MAIL FROM) smtp.mailfrom=x@rej.test',
    receivedSpf: 'Received-SPF: pass',
  };
  const before = s.dns.queries('rej.test', 'TXT');
  const out = await verifyMessage(Readable.from([Buffer.from(message('rej.test'))]), {
    resolver: s.resolver,
    ip: BAD,
    helo: 'client.example',
    sender: 'x@rej.test',
    hostname: HOST,
    spf: given,
  });
  assert.equal(out.spf, given);
  assert.equal(s.dns.queries('rej.test', 'TXT'), before, 'no SPF lookup');
  assert.match(out.authResults, /spf=pass \(computed at MAIL FROM\)/);
  assert.deepEqual([out.dmarc?.result, out.dmarc?.aligned], ['pass', { spf: 'rej.test' }]);
});
