import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createSelfSigned } from '../../src/tls/selfsigned.ts';
import { tmpDir } from '../helpers/tmp.ts';

test('the self-signed certificate: ECDSA P-256 leaf for the host name, self-signature valid, strict DER for OpenSSL', async (t) => {
  const { key, cert } = await createSelfSigned('mail.example.com', 30);
  const x = new X509Certificate(cert);
  const priv = createPrivateKey(key);
  assert.equal(priv.asymmetricKeyType, 'ec');
  assert.equal(priv.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.ok(x.checkPrivateKey(priv), 'the key belongs to the certificate');
  assert.ok(x.verify(x.publicKey), 'the signature verifies with its own key');
  assert.equal(x.checkHost('mail.example.com'), 'mail.example.com');
  assert.equal(x.checkHost('other.example.com'), undefined);
  assert.equal(x.ca, false);
  assert.deepEqual(x.keyUsage, ['1.3.6.1.5.5.7.3.1']); // extKeyUsage: serverAuth
  const days = (Date.parse(x.validTo) - Date.now()) / 86_400_000;
  assert.ok(days > 29 && days <= 30, `valid for ${days} days`);

  const dir = tmpDir(t);
  const file = join(dir, 'cert.pem');
  writeFileSync(file, cert);
  const text = execFileSync('openssl', ['x509', '-in', file, '-noout', '-text'], { encoding: 'utf8' });
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /X509v3 Key Usage: critical\s+Digital Signature\s/);
  assert.match(text, /CA:FALSE/);
  assert.match(text, /DNS:mail\.example\.com/);
  // keyUsage in DER: a named-bit BIT STRING ends at its last set bit (X.690 11.2.2), so digitalSignature alone is
  // 03 02 07 80 (seven unused bits), wrapped in the extension's OCTET STRING.
  assert.ok(x.raw.includes(Buffer.from([0x04, 0x04, 0x03, 0x02, 0x07, 0x80])), 'keyUsage is minimal DER');
  const verified = execFileSync(
    'openssl',
    ['verify', '-x509_strict', '-partial_chain', '-purpose', 'sslserver', '-CAfile', file, file],
    { encoding: 'utf8' },
  );
  assert.match(verified, /: OK/);
});

test('a self-signed certificate for an IP address carries it as an IP SAN', async () => {
  for (const ip of ['192.0.2.10', '2001:db8::25']) {
    const x = new X509Certificate((await createSelfSigned(ip, 1)).cert);
    assert.equal(x.checkIP(ip), ip);
  }
});
