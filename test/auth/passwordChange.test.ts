import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyPassword } from '../../src/auth/passwords.ts';
import { ok, TOKEN } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';

const CHANGE = `mutation($e: String!, $c: String!, $n: String!) {
  changePassword(email: $e, currentPassword: $c, newPassword: $n) {
    __typename
    ... on User { email }
    ... on AuthenticationError { code message }
    ... on ValidationError { code fieldErrors { path message } }
    ... on NotFoundError { entity key }
  }
}`;

async function withUser(t: { after(fn: () => unknown): void }) {
  const s = await startTestServer(t);
  await ok(s.api, 'mutation { createDomain(name: "example.com") { __typename } }');
  await s.app.services.accounts.createUser('test', 'bob@example.com', TEST_PASSWORD);
  const hash = () => s.app.repos.users.require('bob@example.com').password_hash;
  return { ...s, hash };
}

async function put(api: string, path: string, body: unknown) {
  const res = await fetch(`${api}${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('GraphQL changePassword: needs the current password (AUTHENTICATION), applies the policy, then changes it', async (t) => {
  const { api, app, hash } = await withUser(t);
  const before = hash();
  const wrong = await ok(api, CHANGE, { e: 'bob@example.com', c: 'not-the-password', n: 'plum-heron-2031' });
  assert.deepEqual(wrong.changePassword, {
    __typename: 'AuthenticationError',
    code: 'AUTHENTICATION',
    message: 'the current password is not correct',
  });
  const common = await ok(api, CHANGE, { e: 'bob@example.com', c: TEST_PASSWORD, n: 'password123' });
  assert.equal(common.changePassword.__typename, 'ValidationError');
  assert.deepEqual(common.changePassword.fieldErrors, [
    { path: ['newPassword'], message: 'is one of the most commonly used passwords; choose another' },
  ]);
  const unknown = await ok(api, CHANGE, { e: 'nobody@example.com', c: TEST_PASSWORD, n: 'plum-heron-2031' });
  assert.equal(unknown.changePassword.__typename, 'NotFoundError');
  assert.equal(hash(), before, 'nothing changed so far');

  const done = await ok(api, CHANGE, { e: 'BOB@example.com', c: TEST_PASSWORD, n: 'plum-heron-2031' });
  assert.deepEqual(done.changePassword, { __typename: 'User', email: 'bob@example.com' });
  assert.equal(await verifyPassword('plum-heron-2031', hash()), true);
  assert.equal(await verifyPassword(TEST_PASSWORD, hash()), false);
  assert.match(hash(), /^\$scrypt\$ln=\d+,r=\d+,p=\d+\$/, 'the stored form carries the scrypt parameters');
  const again = await ok(api, CHANGE, { e: 'bob@example.com', c: TEST_PASSWORD, n: 'another-heron-99' });
  assert.equal(again.changePassword.__typename, 'AuthenticationError', 'the old password no longer counts');
  assert.ok(app.repos.audit.list({ limit: 50 }).some((a) => a.action === 'user.change_password'));
});

test('REST PUT /api/users/{email}/password: current_password checked when given (403), optional for the admin', async (t) => {
  const { api, hash } = await withUser(t);
  const path = '/api/users/bob%40example.com/password';
  const before = hash();
  const wrong = await put(api, path, { current_password: 'not-the-password', password: 'plum-heron-2031' });
  assert.equal(wrong.status, 403);
  assert.equal(wrong.body.error, 'authentication_failed');
  const weak = await put(api, path, { current_password: TEST_PASSWORD, password: 'bob@example.com' });
  assert.equal(weak.status, 400);
  assert.deepEqual(weak.body.fields, [
    { field: 'password', message: 'must not be the email address or its local part' },
  ]);
  const missing = await put(api, path, { current_password: TEST_PASSWORD, extra: 1 });
  assert.equal(missing.status, 400);
  assert.deepEqual(missing.body.fields.map((f: any) => f.field).sort(), ['extra', 'password']);
  assert.equal(
    (await put(api, '/api/users/nobody%40example.com/password', { password: 'plum-heron-2031' })).status,
    404,
  );
  assert.equal(hash(), before);

  const changed = await put(api, path, { current_password: TEST_PASSWORD, password: 'plum-heron-2031' });
  assert.equal(changed.status, 200);
  assert.equal(changed.body.email, 'bob@example.com');
  assert.equal(changed.body.password_hash, undefined);
  assert.equal(await verifyPassword('plum-heron-2031', hash()), true);

  // The administrator may set one without the current password; the policy still applies.
  const set = await put(api, path, { password: 'quince-lynx-88' });
  assert.equal(set.status, 200);
  assert.equal(await verifyPassword('quince-lynx-88', hash()), true);
  assert.equal((await put(api, path, { password: 'short' })).status, 400);
});
