// src/auth/passwords.ts: scrypt hashes in the `$scrypt$ln=..,r=..,p=..$salt$hash` form, verified with the
// parameters they carry, constant-time, off the event loop; anything else never verifies.
import assert from 'node:assert/strict';
import { randomBytes, scryptSync } from 'node:crypto';
import { test } from 'node:test';
import { hashPassword, verifyPassword } from '../../src/auth/passwords.ts';

/** A stored hash made here with node's scrypt directly, with any parameters. */
function stored(password: string, ln: number, r = 8, p = 1): string {
  const salt = randomBytes(16);
  const key = scryptSync(password.normalize('NFC'), salt, 32, { N: 2 ** ln, r, p, maxmem: 256 * 2 ** ln * r });
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

test('hashPassword: the documented format with ln=15, r=8, p=1, a 16-byte salt and a 32-byte key; salted', async () => {
  const h = await hashPassword('correct horse');
  const m = /^\$scrypt\$ln=15,r=8,p=1\$([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+)$/.exec(h);
  assert.ok(m, h);
  assert.equal(Buffer.from(m[1]!, 'base64').length, 16);
  assert.equal(Buffer.from(m[2]!, 'base64').length, 32);
  assert.ok(!h.includes('correct horse'));
  assert.notEqual(await hashPassword('correct horse'), h, 'a new salt every time');
});

test('verifyPassword: the right password verifies, any other does not', async () => {
  const h = await hashPassword('correct horse');
  assert.equal(await verifyPassword('correct horse', h), true);
  for (const wrong of ['correct horsE', 'correct horse ', '', 'correct', 'correct horse battery'])
    assert.equal(await verifyPassword(wrong, h), false, JSON.stringify(wrong));
});

test('verifyPassword uses the parameters stored with the hash (ln 10..20, r 1..32, p 1..16), others never verify', async () => {
  assert.equal(await verifyPassword('pw-ln10', stored('pw-ln10', 10)), true, 'a cheaper hash (ln=10) verifies');
  assert.equal(await verifyPassword('pw-r4', stored('pw-r4', 10, 4, 2)), true);
  assert.equal(await verifyPassword('weak', stored('weak', 9)), false, 'ln below 10 is refused');
  assert.equal(await verifyPassword('r0', stored('r0', 10, 1).replace('r=1', 'r=0')), false);
  assert.equal(await verifyPassword('p17', stored('p17', 10).replace('p=1', 'p=17')), false);
  assert.equal(await verifyPassword('ln21', stored('ln21', 10).replace('ln=10', 'ln=21')), false);
});

test('verifyPassword: unknown formats and tampered hashes never verify', async () => {
  const h = await hashPassword('secret password');
  const parts = h.split('$');
  assert.equal(parts.length, 5); // '', 'scrypt', parameters, salt, key
  const key = Buffer.from(parts[4]!, 'base64');
  key[0]! ^= 1;
  const tampered = [...parts.slice(0, 4), key.toString('base64')].join('$');
  const shortKey = [...parts.slice(0, 4), key.subarray(0, 16).toString('base64')].join('$');
  for (const bad of [
    '',
    'secret password',
    '$2b$10$abcdefghijklmnopqrstuuNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN',
    h.replace('$scrypt$', '$argon2$'),
    h.replace(/\$[^$]+$/, '$'),
    `${h} `,
    tampered,
    shortKey,
  ])
    assert.equal(await verifyPassword('secret password', bad), false, bad);
});

test('passwords are compared after NFC normalisation (composed and decomposed é are the same password)', async () => {
  const composed = 'caf\u00e9 au lait';
  const decomposed = 'cafe\u0301 au lait';
  assert.notEqual(composed, decomposed);
  const h = await hashPassword(composed);
  assert.equal(await verifyPassword(decomposed, h), true);
  assert.equal(await verifyPassword('cafe au lait', h), false);
});

test('hashing and verifying run off the event loop: timers keep firing meanwhile', async () => {
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    const h = await hashPassword('event loop stays free');
    const hashTicks = ticks;
    assert.ok(hashTicks > 0, 'no timer fired while hashing (scrypt ran on the event loop)');
    assert.equal(await verifyPassword('event loop stays free', h), true);
    assert.ok(ticks > hashTicks, 'no timer fired while verifying');
  } finally {
    clearInterval(timer);
  }
});
