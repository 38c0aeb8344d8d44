// src/auth/bearer.ts: the Authorization header of the admin APIs: the config's admin token, an API token from
// the database (its name becomes the actor, its scopes the caller's) or a login session (its user, and domain
// admin of the user's domain_admins rows); everything else is refused with a reason.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type AuthInfo, verifyBearer } from '../../src/auth/bearer.ts';
import { testDb } from '../helpers/db.ts';

/** The parts of a principal the assertions compare. */
const who = (r: AuthInfo | { error: string }) =>
  'error' in r
    ? r
    : {
        actor: r.actor,
        via: r.via,
        admin: r.admin,
        domains: [...r.domains].sort(),
        user: r.user?.email ?? null,
        scopes: r.scopes,
        totpSetupRequired: r.totpSetupRequired,
      };
const ADMIN_WHO = {
  actor: 'admin-token',
  via: 'admin-token',
  admin: true,
  domains: [],
  user: null,
  scopes: ['admin'],
  totpSetupRequired: false,
};
const token = (actor: string, scopes: string[], more: Record<string, unknown> = {}) => ({
  actor,
  via: 'api-token',
  admin: scopes.includes('admin'),
  domains: [],
  user: null,
  scopes,
  totpSetupRequired: false,
  ...more,
});

const ADMIN = 'admin-token-0123456789abcdefghijklmnopqrstuvwxyz';

test('the admin token (any case of "Bearer", surrounding spaces) is the admin actor with the admin scope', (t) => {
  const { repos } = testDb(t);
  const deps = { adminToken: ADMIN, repos };
  for (const h of [`Bearer ${ADMIN}`, `bearer ${ADMIN}`, `BEARER   ${ADMIN}  `])
    assert.deepEqual(who(verifyBearer(deps, h)), ADMIN_WHO, h);
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
  // An unknown scope (an old row) grants nothing.
  const reader = repos.apiTokens.create('dashboard', ['read']);
  assert.deepEqual(who(verifyBearer(deps, `Bearer ${reader.token}`)), token('api-token:dashboard', []));
  const ci = repos.apiTokens.create('ci');
  assert.deepEqual(who(verifyBearer(deps, `Bearer ${ci.token}`)), token('api-token:ci', ['admin']));
  repos.apiTokens.revoke(ci.row.id);
  assert.deepEqual(verifyBearer(deps, `Bearer ${ci.token}`), { error: 'invalid or expired token' });
  const old = repos.apiTokens.create('old', ['admin'], Date.now() - 1);
  assert.deepEqual(verifyBearer(deps, `Bearer ${old.token}`), { error: 'invalid or expired token' });
  const later = repos.apiTokens.create('later', ['admin'], Date.now() + 3_600_000);
  assert.deepEqual(who(verifyBearer(deps, `Bearer ${later.token}`)), token('api-token:later', ['admin']));
  // The admin token is not an API token, and an API token is not the admin token.
  assert.deepEqual(who(verifyBearer({ adminToken: reader.token, repos }, `Bearer ${reader.token}`)), ADMIN_WHO);
});

test('domain: and user: scopes: domains administered, the user acted as; a user scope of a user not active grants nothing', (t) => {
  const { repos } = testDb(t);
  const deps = { adminToken: ADMIN, repos };
  repos.domains.create('a.example', { useTemplate: true });
  repos.domains.create('b.example', { useTemplate: true });
  repos.users.create({ email: 'ann@a.example', passwordHash: 'x' });
  const both = repos.apiTokens.create('ops', ['domain:a.example', 'domain:b.example']);
  assert.deepEqual(
    who(verifyBearer(deps, `Bearer ${both.token}`)),
    token('api-token:ops', ['domain:a.example', 'domain:b.example'], { domains: ['a.example', 'b.example'] }),
  );
  const ann = repos.apiTokens.create('ann-phone', ['user:ann@a.example']);
  assert.deepEqual(
    who(verifyBearer(deps, `Bearer ${ann.token}`)),
    token('api-token:ann-phone', ['user:ann@a.example'], { user: 'ann@a.example' }),
  );
  repos.users.update('ann@a.example', { status: 'disabled' });
  assert.deepEqual(verifyBearer(deps, `Bearer ${ann.token}`), { error: 'the user of this token is not active' });
  repos.users.update('ann@a.example', { status: 'active' });
  repos.domains.update('a.example', { status: 'disabled' });
  assert.deepEqual(verifyBearer(deps, `Bearer ${ann.token}`), { error: 'the user of this token is not active' });
});

test('a session: its user, domain admin of its domain_admins rows (read at each request); ends when revoked, expired, or the user is disabled', (t) => {
  const { repos } = testDb(t);
  const deps = { adminToken: ADMIN, repos };
  repos.domains.create('a.example', { useTemplate: true });
  repos.domains.create('b.example', { useTemplate: true });
  const bob = repos.users.create({ email: 'bob@a.example', passwordHash: 'x' });
  const s = repos.sessions.create(bob.id, Date.now() + 60_000, { ip: '127.0.0.1' });
  assert.match(s.token, /^mys_[A-Za-z0-9_-]{43}$/);
  const session = (domains: string[], more: Record<string, unknown> = {}) => ({
    actor: 'bob@a.example',
    via: 'session',
    admin: false,
    domains,
    user: 'bob@a.example',
    scopes: ['user:bob@a.example', ...domains.map((d) => `domain:${d}`)],
    totpSetupRequired: false,
    ...more,
  });
  assert.deepEqual(who(verifyBearer(deps, `Bearer ${s.token}`)), session([]));
  repos.domainAdmins.set(bob.id, ['b.example', 'A.Example']);
  assert.deepEqual(who(verifyBearer(deps, `Bearer ${s.token}`)), session(['a.example', 'b.example']));
  repos.domainAdmins.set(bob.id, []);
  assert.deepEqual(who(verifyBearer(deps, `Bearer ${s.token}`)), session([]));
  // A TOTP-enforcing domain and a user without TOTP: the session may only set it up.
  repos.domains.update('a.example', { auth_totp_enforced: true });
  assert.deepEqual(who(verifyBearer(deps, `Bearer ${s.token}`)), session([], { totpSetupRequired: true }));
  repos.domains.update('a.example', { auth_totp_enforced: false });
  repos.users.update('bob@a.example', { status: 'suspended' });
  assert.deepEqual(verifyBearer(deps, `Bearer ${s.token}`), { error: 'invalid or expired session' });
  repos.users.update('bob@a.example', { status: 'active' });
  assert.equal((who(verifyBearer(deps, `Bearer ${s.token}`)) as { user: string }).user, 'bob@a.example');
  repos.sessions.revoke(s.row.id);
  assert.deepEqual(verifyBearer(deps, `Bearer ${s.token}`), { error: 'invalid or expired session' });
  const short = repos.sessions.create(bob.id, Date.now() + 1000);
  assert.equal((who(verifyBearer(deps, `Bearer ${short.token}`)) as { user: string }).user, 'bob@a.example');
  assert.deepEqual(verifyBearer(deps, `Bearer ${short.token}`, Date.now() + 1000), {
    error: 'invalid or expired session',
  });
  // A session token is not an API token.
  assert.deepEqual(verifyBearer(deps, `Bearer my_${short.token.slice(4)}`), { error: 'invalid or expired token' });
  // cleanup() deletes the revoked and the expired ones.
  assert.equal(repos.sessions.cleanup(Date.now() + 2000), 2);
});
