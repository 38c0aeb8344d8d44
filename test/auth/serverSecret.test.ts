// src/auth/serverSecret.ts: <data>/server-secret is created once (0600, 64 hex digits), read back the same on
// every later call, refused when group or others may access it or when malformed; deriveKey is HKDF-SHA256 with
// info "mailyard:<purpose>" (checked against Python's hmac, an independent implementation).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { deriveKey, loadServerSecret } from '../../src/auth/serverSecret.ts';
import { tmpDir } from '../helpers/tmp.ts';

test('first use creates <data>/server-secret (0600, folder 0700); later calls return the same secret', (t) => {
  const data = join(tmpDir(t), 'data');
  const path = join(data, 'server-secret');
  const first = loadServerSecret(data);
  assert.equal(first.length, 32);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(data).mode & 0o777, 0o700);
  assert.match(readFileSync(path, 'utf8'), /^[0-9a-f]{64}\n$/);
  assert.deepEqual(readdirSync(data), ['server-secret'], 'no temporary file left behind');
  assert.deepEqual(loadServerSecret(data), first);
  assert.deepEqual(loadServerSecret(data), first);
  const other = tmpDir(t);
  assert.notDeepEqual(loadServerSecret(other), first, 'another data folder, another secret');
});

test('a secret file that group or others may access is refused, naming the file and its mode', (t) => {
  const data = tmpDir(t);
  const path = join(data, 'server-secret');
  const secret = loadServerSecret(data);
  for (const mode of [0o640, 0o604, 0o644, 0o660]) {
    chmodSync(path, mode);
    assert.throws(
      () => loadServerSecret(data),
      (e: Error) => e.message.includes(path) && e.message.includes(`0${mode.toString(8)}`),
      mode.toString(8),
    );
  }
  chmodSync(path, 0o400);
  assert.deepEqual(loadServerSecret(data), secret, 'read-only for the owner is fine');
});

test('a malformed secret file is an error naming the file (never silently replaced)', (t) => {
  const data = tmpDir(t);
  const path = join(data, 'server-secret');
  for (const text of ['', 'abc\n', `${'g'.repeat(64)}\n`, `${'a'.repeat(66)}\n`]) {
    writeFileSync(path, text, { mode: 0o600 });
    assert.throws(
      () => loadServerSecret(data),
      (e: Error) => e.message.includes(path) && /malformed/.test(e.message),
    );
    assert.equal(readFileSync(path, 'utf8'), text, 'left as it was');
  }
  writeFileSync(path, `${'AB'.repeat(32)}\r\n`, { mode: 0o600 });
  assert.deepEqual(loadServerSecret(data), Buffer.alloc(32, 0xab), 'upper case and CRLF are fine');
});

test('deriveKey: HKDF-SHA256 with info mailyard:<purpose>; purposes are independent, lengths as asked', () => {
  const secret = Buffer.alloc(32, 1);
  const srs = deriveKey(secret, 'srs');
  assert.equal(srs.length, 32);
  assert.deepEqual(deriveKey(secret, 'srs'), srs, 'stable');
  assert.notDeepEqual(deriveKey(secret, 'totp'), srs);
  assert.notDeepEqual(deriveKey(Buffer.alloc(32, 2), 'srs'), srs);
  assert.equal(deriveKey(secret, 'totp', 64).length, 64);
  assert.throws(() => deriveKey(secret, ''));
  if (!existsSync('/usr/bin/python3')) return;
  // RFC 5869 by hand in Python: extract with a zero salt, expand with info.
  const py = [
    'import hmac, hashlib, sys',
    'ikm = bytes([1]) * 32',
    'prk = hmac.new(bytes(32), ikm, hashlib.sha256).digest()',
    'out, t, i = b"", b"", 1',
    'while len(out) < 32:',
    '    t = hmac.new(prk, t + b"mailyard:srs" + bytes([i]), hashlib.sha256).digest(); out += t; i += 1',
    'print(out[:32].hex())',
  ].join('\n');
  assert.equal(execFileSync('/usr/bin/python3', ['-c', py], { encoding: 'utf8' }).trim(), srs.toString('hex'));
});
