// src/auth/bearer.ts: the Authorization header of the admin APIs: the config's admin token or an API token from
// the database (its name becomes the actor, its scopes the caller's); everything else is refused with a reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyBearer } from '../../src/auth/bearer.ts';
import { testDb } from '../helpers/db.ts';

const ADMIN = 'admin-token-0123456789abcdefghijklmnopqrstuvwxyz';

test('the admin token (any case of "Bearer", surrounding spaces) is the admin actor with the admin scope', (t) => {
  const { repos } = testDb(t);
  const deps = { adminToken: ADMIN, repos };
  for (const h of [`Bearer ${ADMIN}`, `bearer ${ADMIN}`, `BEARER   ${ADMIN}  `])
    assert.deepEqual(verifyBearer(deps, h), { actor: 'admin-token', scopes: ['admin'] }, h);
});

test('a missing or malformed header is refused with what is expected', (t) => {
  const { repos } = testDb(t);
  const deps = { adminToken: ADMIN, repos };
  assert.deepEqual(verifyBearer(deps, undefined), { error: 'missing Authorization: Bearer <token> header' });
  assert.deepEqual(verifyBearer(deps, null), { error: 'missing Authorization: Bearer <token> header' });
  assert.deepEqual(verifyBearer(deps, ''), { error: 'missing Authorization: Bearer <token> header' });
  for (const h of [ADMIN, `Basic ${ADMIN}`, 'Bearer', 'Bearer ', `Bearer ${ADMIN} extra`, `Token ${ADMIN}`])
    assert.deepEqual(verifyBearer(deps, h), { error: 'the Authorization header must be "Bearer <token>"' }, h);
});

test('a token that is only close to the admin token is refused', (t) => {
  const { repos } = testDb(t);
  const deps = { adminToken: ADMIN, repos };
  for (const token of [`${ADMIN}x`, ADMIN.slice(0, -1), ADMIN.toUpperCase(), `x${ADMIN}`])
    assert.deepEqual(verifyBearer(deps, `Bearer ${token}`), { error: 'invalid or expired token' }, token);
});

test('an API token from the database: actor api-token:<name>, its own scopes; revoked or expired ones are refused', (t) => {
  const { repos } = testDb(t);
  const deps = { adminToken: ADMIN, repos };
  const reader = repos.apiTokens.create('dashboard', ['read']);
  assert.deepEqual(verifyBearer(deps, `Bearer ${reader.token}`), { actor: 'api-token:dashboard', scopes: ['read'] });
  const ci = repos.apiTokens.create('ci');
  assert.deepEqual(verifyBearer(deps, `Bearer ${ci.token}`), { actor: 'api-token:ci', scopes: ['admin'] });
  repos.apiTokens.revoke(ci.row.id);
  assert.deepEqual(verifyBearer(deps, `Bearer ${ci.token}`), { error: 'invalid or expired token' });
  const old = repos.apiTokens.create('old', ['admin'], Date.now() - 1);
  assert.deepEqual(verifyBearer(deps, `Bearer ${old.token}`), { error: 'invalid or expired token' });
  const later = repos.apiTokens.create('later', ['admin'], Date.now() + 3_600_000);
  assert.deepEqual(verifyBearer(deps, `Bearer ${later.token}`), { actor: 'api-token:later', scopes: ['admin'] });
  // The admin token is not an API token, and an API token is not the admin token.
  assert.deepEqual(verifyBearer({ adminToken: reader.token, repos }, `Bearer ${reader.token}`), {
    actor: 'admin-token',
    scopes: ['admin'],
  });
});
