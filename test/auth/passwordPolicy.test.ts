import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { checkPassword, isCommonPassword, PASSWORD_MAX, PASSWORD_MIN } from '../../src/auth/passwordPolicy.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';

const bob = { email: 'bob@example.com' };

test('length: at least PASSWORD_MIN (10), at most PASSWORD_MAX (1024)', () => {
  assert.equal(PASSWORD_MIN, 10);
  assert.equal(checkPassword('z7'.repeat(4), bob), 'must be at least 10 characters');
  assert.equal(checkPassword('zq7wx8vk3m', bob), null);
  assert.equal(checkPassword('z'.repeat(PASSWORD_MAX), bob), null);
  assert.equal(checkPassword('z'.repeat(PASSWORD_MAX + 1), bob), 'must be at most 1024 characters');
});

test('not the address or its local part (any case); not containing a local part of 4+ characters', () => {
  const long = { email: 'Marguerite@Example.com' };
  assert.equal(checkPassword('marguerite@example.com', long), 'must not be the email address or its local part');
  assert.equal(checkPassword('MARGUERITE', long), 'must not be the email address or its local part');
  assert.equal(checkPassword('xMargueRITE-2024', long), 'must not contain the local part of the email address');
  // A local part under 4 characters only counts as the whole password.
  const short = { email: 'bob@example.com' };
  assert.equal(checkPassword('bob@example.com', short), 'must not be the email address or its local part');
  assert.equal(checkPassword('bobsleigh-run-7', short), null);
  const four = { email: 'anna@example.com' };
  assert.equal(checkPassword('my-anna-secret', four), 'must not contain the local part of the email address');
});

test('not one of the common passwords (lower-cased comparison); the list has ~200 entries', () => {
  const list = readFileSync(new URL('../../src/auth/commonPasswords.txt', import.meta.url), 'utf8')
    .split('\n')
    .filter(Boolean);
  assert.ok(list.length >= 190 && list.length <= 250, String(list.length));
  for (const p of ['password123', 'PASSWORD123', 'qwertyuiop', '1234567890', 'Iloveyou123'])
    assert.equal(checkPassword(p, bob), 'is one of the most commonly used passwords; choose another', p);
  assert.equal(isCommonPassword('Password'), true);
  assert.equal(isCommonPassword(TEST_PASSWORD), false);
});

test('the test password passes for every test user', () => {
  for (const email of [
    'bob@example.com',
    'carol@example.com',
    'dave@other.example',
    'erin@closed.example',
    'jörg@bücher.example',
    'alice@a.test',
  ])
    assert.equal(checkPassword(TEST_PASSWORD, { email }), null);
});
