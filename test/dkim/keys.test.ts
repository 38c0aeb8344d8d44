// src/dkim/keys.ts: DKIM key pairs (RSA of the requested size, Ed25519), generated off the event loop, and the
// TXT record to publish. The record is checked the way a receiver uses it: the public key is rebuilt from the
// record's p= alone (RFC 6376 3.6.1: SPKI for RSA; RFC 8463: the raw 32-byte Ed25519 key) and must verify a
// signature made with the stored private key, and must not verify one made with another key.
import assert from 'node:assert/strict';
import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { test } from 'node:test';
import { type DkimKeyType, dkimDnsRecord, dnsPublicKey, generateDkimKey, RSA_KEY_SIZES } from '../../src/dkim/keys.ts';

/** The public key a receiver builds from a TXT record (tags parsed as RFC 6376 3.2 tag=value pairs). */
function keyFromRecord(record: string): { type: string; key: KeyObject } {
  const tags = new Map(
    record.split(';').map((t) => {
      const i = t.indexOf('=');
      return [t.slice(0, i).trim(), t.slice(i + 1).replace(/\s+/g, '')] as const;
    }),
  );
  assert.equal(tags.get('v'), 'DKIM1');
  const type = tags.get('k')!;
  const p = Buffer.from(tags.get('p')!, 'base64');
  const key =
    type === 'ed25519'
      ? createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: p.toString('base64url') }, format: 'jwk' })
      : createPublicKey({ key: p, format: 'der', type: 'spki' });
  return { type, key };
}

/** Whether a signature made with `privateKey` verifies with the key published in `record`. */
function recordVerifies(privateKey: string, record: string, type: DkimKeyType): boolean {
  const data = Buffer.from('DKIM-Signature: v=1; a=...; the canonicalized header hash input');
  const alg = type === 'ed25519' ? null : 'sha256';
  const { key } = keyFromRecord(record);
  return verify(alg, data, key, sign(alg, data, privateKey));
}

test('RSA: the requested modulus length, PKCS#8 / SPKI PEMs that belong together; RSA_KEY_SIZES is 1024/2048/4096', async () => {
  assert.deepEqual([...RSA_KEY_SIZES], [1024, 2048, 4096]);
  for (const size of [1024, 2048]) {
    const pair = await generateDkimKey('rsa', size);
    assert.match(pair.privateKey, /^-----BEGIN PRIVATE KEY-----\n/);
    assert.match(pair.publicKey, /^-----BEGIN PUBLIC KEY-----\n/);
    const pub = createPublicKey(pair.publicKey);
    assert.equal(pub.asymmetricKeyType, 'rsa');
    assert.equal(pub.asymmetricKeyDetails?.modulusLength, size);
    const derived = createPublicKey(createPrivateKey(pair.privateKey)).export({ type: 'spki', format: 'pem' });
    assert.equal(derived, pair.publicKey, 'the public key is the private key’s');
  }
});

test('RSA record: v=DKIM1; k=rsa; p= the base64 SubjectPublicKeyInfo; the key rebuilt from it verifies our signatures', async () => {
  const pair = await generateDkimKey('rsa', 1024);
  const p = dnsPublicKey(pair.publicKey, 'rsa');
  const der = createPublicKey(pair.publicKey).export({ type: 'spki', format: 'der' });
  assert.equal(p, der.toString('base64'));
  const record = dkimDnsRecord(pair.publicKey, 'rsa');
  assert.equal(record, `v=DKIM1; k=rsa; p=${p}`);
  assert.equal(keyFromRecord(record).key.asymmetricKeyDetails?.modulusLength, 1024);
  assert.equal(recordVerifies(pair.privateKey, record, 'rsa'), true);
  // Another key's record does not verify this signature.
  const other = await generateDkimKey('rsa', 1024);
  assert.equal(recordVerifies(pair.privateKey, dkimDnsRecord(other.publicKey, 'rsa'), 'rsa'), false);
});

test('Ed25519 (RFC 8463): p= is the raw 32-byte key, not the SPKI; the key rebuilt from it verifies our signatures', async () => {
  const pair = await generateDkimKey('ed25519', 0);
  const pub = createPublicKey(pair.publicKey);
  assert.equal(pub.asymmetricKeyType, 'ed25519');
  const p = dnsPublicKey(pair.publicKey, 'ed25519');
  const raw = Buffer.from(p, 'base64');
  assert.equal(raw.length, 32);
  assert.deepEqual(raw, Buffer.from(pub.export({ format: 'jwk' }).x!, 'base64url'));
  const data = Buffer.from('payload');
  assert.ok(verify(null, data, pub, sign(null, data, pair.privateKey)), 'the pair belongs together');
  const record = dkimDnsRecord(pair.publicKey, 'ed25519');
  assert.equal(record, `v=DKIM1; k=ed25519; p=${p}`);
  assert.equal(keyFromRecord(record).key.asymmetricKeyType, 'ed25519');
  assert.equal(recordVerifies(pair.privateKey, record, 'ed25519'), true);
  const other = await generateDkimKey('ed25519', 0);
  assert.equal(recordVerifies(pair.privateKey, dkimDnsRecord(other.publicKey, 'ed25519'), 'ed25519'), false);
});

test('key generation runs off the event loop: timers keep firing while an RSA 2048 key is made', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    await generateDkimKey('rsa', 2048);
  } finally {
    clearInterval(timer);
  }
  assert.ok(ticks > 0, 'no timer fired during RSA key generation');
});
