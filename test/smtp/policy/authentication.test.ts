// SPF, DKIM, DMARC and ARC through a real SMTP session: a dnsmasq on loopback publishes the senders' SPF, DKIM keys
// and DMARC policies; signatures and ARC seals are made by an independent implementation (dkimpy). The client is
// 127.0.0.1, not trusted here, so every check applies.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { arcSeal, type DkimKey, dkimSign, makeKey, needDkimpy } from '../../helpers/dkimpy.ts';
import { tmpDir } from '../../helpers/tmp.ts';
import { policyServer } from './setup.ts';

const QUIET = { greylist: { enabled: false }, rate_limit: { enabled: false } };
const HOST = 'mail.test.example';

function message(from: string, subject: string, extra: string[] = [], body = 'Hello Bob.\r\n'): string {
  return [
    ...extra,
    `From: Alice <alice@${from}>`,
    'To: bob@example.com',
    `Subject: ${subject}`,
    'Date: Wed, 02 Dec 2026 10:00:00 +0000',
    `Message-ID: <${Math.random().toString(36).slice(2)}@${from}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    '',
    body,
  ].join('\r\n');
}

async function setup(t: import('node:test').TestContext) {
  if (!needDkimpy(t)) return null;
  const dir = tmpDir(t);
  const keys: Record<string, DkimKey> = {};
  for (const d of ['pass.test', 'rej.test', 'quar.test', 'relay.test']) keys[d] = makeKey(dir, 's1', d);
  const s = await policyServer(t, {
    security: QUIET,
    dns: [
      'txt-record=pass.test,"v=spf1 ip4:127.0.0.1 -all"',
      'txt-record=fail.test,"v=spf1 ip4:192.0.2.1 -all"',
      'txt-record=soft.test,"v=spf1 ip4:192.0.2.1 ~all"',
      'txt-record=rej.test,"v=spf1 ip4:192.0.2.1 -all"',
      'txt-record=quar.test,"v=spf1 ip4:192.0.2.1 -all"',
      'txt-record=relay.test,"v=spf1 ip4:127.0.0.1 -all"',
      'txt-record=_dmarc.pass.test,"v=DMARC1; p=none"',
      'txt-record=_dmarc.rej.test,"v=DMARC1; p=reject"',
      'txt-record=_dmarc.quar.test,"v=DMARC1; p=quarantine"',
      ...Object.values(keys).map((k) => k.record),
    ],
  });
  return { s, keys };
}

test('SPF pass and an aligned DKIM signature: delivered with Authentication-Results naming our host; forged results removed', async (t) => {
  const x = await setup(t);
  if (!x) return;
  const { s, keys } = x;
  const forged = [
    `Authentication-Results: ${HOST.toUpperCase()}; dkim=pass header.d=bank.example; spf=pass`,
    'Authentication-Results: other.example; spf=pass smtp.mailfrom=pass.test',
  ];
  const signed = dkimSign(message('pass.test', 'signed'), keys['pass.test']!);
  const r = await s.send(
    'alice@pass.test',
    ['bob@example.com'],
    Buffer.concat([Buffer.from(`${forged.join('\r\n')}\r\n`), signed]),
  );
  assert.equal(r.data?.slice(0, 3), '250');
  const [stored] = await s.texts('bob@example.com');
  assert.ok(stored!.startsWith(`Authentication-Results: ${HOST};`), stored!.slice(0, 200));
  const ar = /^Authentication-Results: [^\r]*(?:\r\n[ \t][^\r]*)*/m.exec(stored!)![0];
  assert.match(ar, /spf=pass/);
  assert.match(ar, /dkim=pass/);
  assert.match(ar, /dmarc=pass/);
  assert.equal(
    stored!.match(/^Authentication-Results:/gim)!.length,
    2,
    'ours and other.example, the forged one removed',
  );
  assert.doesNotMatch(stored!, /bank\.example/);
  assert.match(stored!, /^Authentication-Results: other\.example; spf=pass/m);
  const received = s.app.repos.deliveryEvents.list({ types: ['RECEIVED'] }).at(-1)!;
  const checks = (received.details as { checks: Record<string, { reason: string }> }).checks;
  assert.equal(checks.dkim?.reason, 'dkim_pass');
  assert.equal(checks.dmarc?.reason, 'dmarc_pass');
});

test('SPF fail: spf_fail_action reject is 550 5.7.23 at RCPT; quarantine -> Junk; softfail and tag deliver with the result', async (t) => {
  const x = await setup(t);
  if (!x) return;
  const { s } = x;
  const fail = await s.send('alice@fail.test', ['bob@example.com'], message('fail.test', 'spf fail'));
  assert.deepEqual(fail.rcpt, ['550 5.7.23']);
  assert.equal(s.logged('spf check failed').length, 1);
  assert.equal(s.app.repos.deliveryEvents.list({ types: ['REJECTED'] }).at(-1)?.reason, 'spf_fail');

  await s.security('example.com', { spf: { fail_action: 'quarantine' } });
  assert.equal(
    (await s.send('alice@fail.test', ['bob@example.com'], message('fail.test', 'q'))).data?.slice(0, 3),
    '250',
  );
  const junk = await s.texts('bob@example.com', 'Junk');
  assert.equal(junk.length, 1);
  assert.match(junk[0]!, /spf=fail/);

  // softfail: accept by default; tag puts the result in the header only (delivered to INBOX either way).
  assert.equal(
    (await s.send('alice@soft.test', ['bob@example.com'], message('soft.test', 's'))).data?.slice(0, 3),
    '250',
  );
  await s.security('example.com', { spf: { softfail_action: 'reject' } });
  assert.deepEqual((await s.send('alice@soft.test', ['bob@example.com'], message('soft.test', 's2'))).rcpt, [
    '550 5.7.23',
  ]);
  await s.security('example.com', { spf: { softfail_action: 'tag' } });
  assert.equal(
    (await s.send('alice@soft.test', ['bob@example.com'], message('soft.test', 's3'))).data?.slice(0, 3),
    '250',
  );
  const inbox = await s.texts('bob@example.com');
  assert.equal(inbox.length, 2);
  for (const m of inbox) assert.match(m, /spf=softfail/);

  // spf disabled: no SPF verdict at all (DKIM/DMARC still reported).
  await s.security('example.com', { spf: { enabled: false, fail_action: 'reject' } });
  assert.equal(
    (await s.send('alice@fail.test', ['bob@example.com'], message('fail.test', 'off'))).data?.slice(0, 3),
    '250',
  );
});

test('DMARC: p=reject without alignment 550 5.7.1, aligned DKIM passes, tampered fails; p=quarantine -> Junk; ARC sealed by dkimpy verifies', async (t) => {
  const x = await setup(t);
  if (!x) return;
  const { s, keys } = x;
  // SPF passes for the envelope domain (pass.test) but it is not the From domain: no alignment, no signature.
  const unaligned = await s.send('bounce@pass.test', ['bob@example.com'], message('rej.test', 'unaligned'));
  assert.deepEqual(unaligned.rcpt, ['250 2.1.5']);
  assert.equal(unaligned.data?.slice(0, 9), '550 5.7.1');
  assert.match(unaligned.raw.data!.text, /DMARC policy of rej\.test/);
  assert.equal(s.logged('dmarc policy failed').length, 1);
  assert.equal(s.app.repos.deliveryEvents.list({ types: ['REJECTED'] }).at(-1)?.reason, 'dmarc_reject');

  // The same message DKIM-signed by rej.test: aligned, so DMARC passes although SPF does not align.
  const signed = dkimSign(message('rej.test', 'aligned'), keys['rej.test']!);
  assert.equal((await s.send('bounce@pass.test', ['bob@example.com'], signed)).data?.slice(0, 3), '250');
  // Tampered after signing: DKIM fails, DMARC fails, rejected.
  const tampered = Buffer.from(signed.toString('latin1').replace('Hello Bob.', 'Hello Eve.'), 'latin1');
  assert.equal((await s.send('bounce@pass.test', ['bob@example.com'], tampered)).data?.slice(0, 9), '550 5.7.1');

  // p=quarantine, unaligned: delivered to Junk with dmarc=fail.
  assert.equal(
    (await s.send('bounce@pass.test', ['bob@example.com'], message('quar.test', 'q'))).data?.slice(0, 3),
    '250',
  );
  const junk = await s.texts('bob@example.com', 'Junk');
  assert.equal(junk.length, 1);
  assert.match(junk[0]!, /dmarc=fail/);
  assert.equal(s.app.repos.deliveryEvents.list({ types: ['QUARANTINED'] }).at(-1)?.reason, 'dmarc_quarantine');

  // dmarc_enabled off for the domain: the p=reject sender's unaligned message is delivered.
  await s.security('example.com', { dmarc: { enabled: false } });
  assert.equal(
    (await s.send('bounce@pass.test', ['bob@example.com'], message('rej.test', 'off'))).data?.slice(0, 3),
    '250',
  );
  await s.security('example.com', { dmarc: { enabled: true } });

  // ARC: a message relayed by relay.test, which sealed it (dkimpy) with its own Authentication-Results.
  const original = message('pass.test', 'via a list');
  const withAr = `Authentication-Results: relay.test; spf=pass smtp.mailfrom=pass.test\r\n${original}`;
  const sealed = arcSeal(withAr, keys['relay.test']!, 'relay.test');
  assert.equal((await s.send('list@relay.test', ['bob@example.com'], sealed)).data?.slice(0, 3), '250');
  const inbox = await s.texts('bob@example.com');
  assert.match(inbox.at(-1)!, new RegExp(`^Authentication-Results: ${HOST};[\\s\\S]*arc=pass`, 'm'));
});
