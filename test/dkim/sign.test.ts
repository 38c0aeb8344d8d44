// DKIM signing (src/dkim/sign.ts) checked by two independent verifiers: dkimpy (python3-dkim, DNS answered from the
// records we give it) and mailauth's authenticate() resolving through dnsmasq on loopback. Cases: RSA 2048 and
// Ed25519 signatures of one message both verify; From is signed although the list leaves it out, and oversigned
// (h= lists it once more than it occurs), so a From added afterwards breaks both signatures; each listed header is
// named once; a message with bare LF line ends signs exactly like its CRLF form and verifies in that form; a message
// file gives the same signature as its bytes; no From or a selector that would end the tag -> error; signingKeyFor follows the domain's settings.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { authenticate } from 'mailauth';
import { dkimDnsRecord, generateDkimKey } from '../../src/dkim/keys.ts';
import { signingKeyFor, signMessage } from '../../src/dkim/sign.ts';
import { createResolver } from '../../src/dns/resolver.ts';
import { mailauthResolver } from '../../src/policy/mailauthResolver.ts';
import { DKIM_HEADERS_TO_SIGN, domainDefaults } from '../../src/repos/rows.ts';
import { toCrlf } from '../../src/store/crlf.ts';
import { dkimpyVerify, needDkimpy, txtRecordLine } from '../helpers/dkimpy.ts';
import { startDnsmasq } from '../helpers/dnsmasq.ts';
import { tmpDir } from '../helpers/tmp.ts';

const DOMAIN = 'signer.test';

function message(eol = '\r\n', body = 'Hello  there.\r\n\r\nSecond   paragraph.\r\n\r\n\r\n'): Buffer {
  return Buffer.from(
    [
      `From: Alice <alice@${DOMAIN}>`,
      'To: bob@elsewhere.test',
      'Subject: a signed',
      '  message',
      'Date: Mon, 30 Nov 2026 10:00:00 +0000',
      `Message-ID: <m1@${DOMAIN}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      body.replace(/\r\n/g, eol),
    ].join(eol),
  );
}

async function keys() {
  const rsa = await generateDkimKey('rsa', 2048);
  const ed = await generateDkimKey('ed25519', 0);
  const headers = ['to', 'Subject', 'SUBJECT', 'Date', 'Message-ID', 'Reply-To'];
  return {
    signing: [
      { domain: DOMAIN, selector: 'rsa1', privateKey: rsa.privateKey, headers },
      { domain: DOMAIN, selector: 'ed1', privateKey: ed.privateKey, headers },
    ],
    records: {
      [`rsa1._domainkey.${DOMAIN}`]: dkimDnsRecord(rsa.publicKey, 'rsa'),
      [`ed1._domainkey.${DOMAIN}`]: dkimDnsRecord(ed.publicKey, 'ed25519'),
    } as Record<string, string>,
  };
}

async function mailauthVerdicts(t: import('node:test').TestContext, records: Record<string, string>) {
  const dns = await startDnsmasq(t, [
    'local=/test/',
    ...Object.entries(records).map(([name, value]) => txtRecordLine(name, value)),
  ]);
  if (!dns) return null;
  const resolver = mailauthResolver(createResolver({ servers: [dns.server], timeoutMs: 2000 }));
  return async (msg: Buffer) => {
    const res = await authenticate(msg, {
      ip: '192.0.2.1',
      helo: 'client.test',
      sender: `alice@${DOMAIN}`,
      mta: 'mx.test',
      resolver,
      disableArc: true,
      disableBimi: true,
    });
    return res.dkim.results.map((r) => `${r.signingDomain}/${r.selector}:${r.status.result}`);
  };
}

const hTag = (sig: string) =>
  sig.split(/\r\n(?=DKIM-Signature:)/).map((s) =>
    /\bh=([^;]+);/
      .exec(s.replace(/\r\n[ \t]/g, ' '))![1]!
      .split(':')
      .map((h) => h.trim().toLowerCase()),
  );

test('RSA 2048 and Ed25519 signatures verify in dkimpy and in mailauth (dnsmasq); From is oversigned', async (t) => {
  if (!needDkimpy(t)) return;
  const { signing, records } = await keys();
  const msg = message();
  const sig = await signMessage(msg, signing);
  assert.match(sig, /^DKIM-Signature: [\s\S]*\r\nDKIM-Signature: [\s\S]*\r\n$/);
  assert.ok(!/\r\n(?![ \t]|DKIM-Signature:|$)/.test(sig), 'folded lines, each header ending in CRLF');
  assert.match(sig, /a=rsa-sha256; c=relaxed\/relaxed; d=signer\.test;/);
  assert.match(sig, /a=ed25519-sha256; c=relaxed\/relaxed; d=signer\.test;/);
  for (const h of hTag(sig)) {
    // Bottom-up instances; each listed header once (Subject listed twice, Reply-To absent); From once more.
    assert.deepEqual(h, ['message-id', 'date', 'subject', 'to', 'from', 'from']);
  }
  const signed = Buffer.concat([Buffer.from(sig), msg]);
  assert.deepEqual(dkimpyVerify(signed, records), [true, true]);
  const verify = await mailauthVerdicts(t, records);
  if (!verify) return;
  assert.deepEqual(await verify(signed), [`${DOMAIN}/rsa1:pass`, `${DOMAIN}/ed1:pass`]);

  // A From added in transit (above or below the signed one) breaks both signatures.
  for (const forged of [
    Buffer.concat([Buffer.from(sig), Buffer.from('From: Mallory <m@evil.test>\r\n'), msg]),
    Buffer.from(signed.toString().replace('To: bob', 'From: Mallory <m@evil.test>\r\nTo: bob')),
  ]) {
    assert.deepEqual(dkimpyVerify(forged, records), [false, false]);
    assert.ok(
      (await verify(forged)).every((v) => !v.endsWith(':pass')),
      String(await verify(forged)),
    );
  }
  // An unsigned header may be added; a signed one may not change.
  const added = Buffer.concat([Buffer.from(sig), Buffer.from('X-Extra: fine\r\n'), msg]);
  assert.deepEqual(await verify(added), [`${DOMAIN}/rsa1:pass`, `${DOMAIN}/ed1:pass`]);
  const changed = Buffer.from(signed.toString().replace('a signed', 'a changed'));
  assert.deepEqual(dkimpyVerify(changed, records), [false, false]);
});

test('bare LF line ends sign the CRLF form: same signature, which verifies on the CRLF message', async (t) => {
  if (!needDkimpy(t)) return;
  const { signing, records } = await keys();
  const now = new Date('2026-12-01T12:00:00Z');
  const lf = message('\n');
  assert.ok(!lf.includes('\r'));
  const fromLf = await signMessage(lf, signing, { now });
  const fromCrlf = await signMessage(message('\r\n'), signing, { now });
  assert.equal(fromLf, fromCrlf);
  const wire = Buffer.concat([Buffer.from(fromLf), toCrlf(lf)]);
  assert.deepEqual(dkimpyVerify(wire, records), [true, true]);
  const verify = await mailauthVerdicts(t, records);
  if (!verify) return;
  assert.deepEqual(await verify(wire), [`${DOMAIN}/rsa1:pass`, `${DOMAIN}/ed1:pass`]);
});

test('a message file signs like its bytes; no From or a bad selector is an error', async (t) => {
  const { signing } = await keys();
  const now = new Date('2026-12-01T12:00:00Z');
  const file = join(tmpDir(t), 'msg.eml');
  writeFileSync(file, message());
  assert.equal(await signMessage(file, signing, { now }), await signMessage(message(), signing, { now }));
  assert.equal(await signMessage(message(), []), '');
  await assert.rejects(
    signMessage(Buffer.from('To: b@x.test\r\nSubject: no author\r\n\r\nbody\r\n'), signing),
    /without a From header/,
  );
  await assert.rejects(signMessage(message(), [{ ...signing[0]!, selector: 'bad;sel' }]), /not a DKIM selector/);
});

test('signingKeyFor: the active key and headers, or null when signing is off or there is no key', () => {
  const row = {
    ...domainDefaults,
    name: DOMAIN,
    dkim_selector: 'mail',
    dkim_private_key: 'PEM',
    dkim_signing_enabled: true,
    dkim_headers_to_sign: DKIM_HEADERS_TO_SIGN,
  };
  assert.deepEqual(signingKeyFor(row as never), {
    domain: DOMAIN,
    selector: 'mail',
    privateKey: 'PEM',
    headers: DKIM_HEADERS_TO_SIGN,
  });
  assert.equal(signingKeyFor({ ...row, dkim_signing_enabled: false } as never), null);
  assert.equal(signingKeyFor({ ...row, dkim_private_key: null } as never), null);
});
