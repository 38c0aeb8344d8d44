// src/accounts/sessions.ts: API login sessions, API tokens whose scopes never exceed their creator's, and domain
// administrators; checked on the service itself (the GraphQL and REST tests go through the front ends).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createAccountService } from '../../src/accounts/service.ts';
import { createSessionService, LOGIN_FAILED } from '../../src/accounts/sessions.ts';
import { verifyBearer } from '../../src/auth/bearer.ts';
import type { Principal } from '../../src/auth/principal.ts';
import { AuthenticationError, ForbiddenError, NotFoundError, ValidationError } from '../../src/repos/errors.ts';
import { nextTick, testDb } from '../helpers/db.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';

const ADMIN = 'the-admin-token-for-these-tests';

async function setup(t: { after(fn: () => unknown): void }) {
  const { repos, bus } = testDb(t);
  repos.domains.create('a.example', { useTemplate: true });
  repos.domains.create('b.example', { useTemplate: true });
  const accounts = createAccountService(repos);
  for (const e of ['ann@a.example', 'dan@a.example', 'bea@b.example'])
    await accounts.createUser('test', e, TEST_PASSWORD);
  const failures: unknown[] = [];
  bus.subscribe('auth.failed', (e) => {
    failures.push(e);
  });
  const logged: string[] = [];
  const sessions = createSessionService({
    repos,
    log: { info: ((o: { reason: string }, msg: string) => logged.push(`${msg}: ${o.reason}`)) as never },
    logins: { users: repos.users, domains: repos.domains, appPasswords: repos.appPasswords, bus },
    sessionHours: 1,
    failureDelayMs: 0,
  });
  const as = (token: string): Principal => {
    const p = verifyBearer({ adminToken: ADMIN, repos }, `Bearer ${token}`);
    assert.ok(!('error' in p), JSON.stringify(p));
    return p;
  };
  const login = async (email: string) =>
    (await sessions.login(email, TEST_PASSWORD, null, { ip: '192.0.2.7', userAgent: 'test' })).token;
  return { repos, accounts, sessions, as, login, admin: as(ADMIN), failures, logged };
}

test('login: a session token for the right password (expires after api.session_hours); one text for every failure; auth.failed events', async (t) => {
  const { repos, sessions, as, failures, logged } = await setup(t);
  const before = Date.now();
  const out = await sessions.login('Ann@A.example', TEST_PASSWORD, null, { ip: '192.0.2.7' });
  assert.equal(out.user.email, 'ann@a.example');
  assert.equal(out.totpSetupRequired, false);
  assert.ok(out.session.expires_at >= before + 3_600_000 && out.session.expires_at <= Date.now() + 3_600_000);
  assert.equal(as(out.token).user?.email, 'ann@a.example');
  assert.ok(repos.users.get('ann@a.example')!.last_login_at! >= before);
  for (const [email, pass] of [
    ['ann@a.example', 'wrong-password-123'],
    ['nobody@a.example', TEST_PASSWORD],
  ] as const) {
    await assert.rejects(sessions.login(email, pass, null, { ip: '192.0.2.8' }), (e) => {
      assert.ok(e instanceof AuthenticationError);
      assert.equal(e.message, LOGIN_FAILED);
      return true;
    });
  }
  repos.users.update('dan@a.example', { status: 'disabled' });
  await assert.rejects(sessions.login('dan@a.example', TEST_PASSWORD, null, { ip: '192.0.2.8' }), {
    message: LOGIN_FAILED,
  });
  await nextTick();
  assert.deepEqual(
    failures.map((f) => (f as { reason: string }).reason),
    ['invalid credentials', 'unknown user', 'user is disabled'],
  );
  assert.ok(failures.every((f) => (f as { protocol: string }).protocol === 'api'));
  assert.deepEqual(logged, [
    'authentication failed: invalid credentials',
    'authentication failed: unknown user',
    'authentication failed: user is disabled',
  ]);
});

test('logout ends the own session only; a password change ends the other sessions, an admin reset all of them', async (t) => {
  const { repos, accounts, sessions, as, login } = await setup(t);
  const [s1, s2, s3] = [await login('ann@a.example'), await login('ann@a.example'), await login('ann@a.example')];
  assert.equal(sessions.logout(as(s1)), true);
  assert.deepEqual(verifyBearer({ adminToken: ADMIN, repos }, `Bearer ${s1}`), { error: 'invalid or expired session' });
  assert.equal(sessions.logout(as(ADMIN)), false);
  const mine = as(s2);
  await accounts.changePassword('ann@a.example', 'ann@a.example', TEST_PASSWORD, 'another-good-pass-9', mine.sessionId);
  assert.equal(as(s2).user?.email, 'ann@a.example');
  assert.ok('error' in verifyBearer({ adminToken: ADMIN, repos }, `Bearer ${s3}`));
  await accounts.setPassword('admin-token', 'ann@a.example', TEST_PASSWORD);
  assert.ok('error' in verifyBearer({ adminToken: ADMIN, repos }, `Bearer ${s2}`));
});

test('sessions of a user: listed and ended by the user or its domain admin, not by others (not found)', async (t) => {
  const { sessions, as, login, admin } = await setup(t);
  const ann = as(await login('ann@a.example'));
  const dan = as(await login('dan@a.example'));
  sessions.setAdminDomains(admin, 'bea@b.example', ['b.example']);
  const beaAdminOfB = as(await login('bea@b.example'));
  assert.equal(sessions.sessionsOf(ann, 'ann@a.example').length, 1);
  assert.throws(() => sessions.sessionsOf(dan, 'ann@a.example'), ForbiddenError);
  assert.throws(() => sessions.sessionsOf(beaAdminOfB, 'ann@a.example'), ForbiddenError);
  assert.throws(() => sessions.revokeSession(dan, ann.sessionId!), NotFoundError);
  sessions.setAdminDomains(admin, 'dan@a.example', ['a.example']);
  const danAdmin = as(await login('dan@a.example'));
  assert.equal(sessions.revokeSession(danAdmin, ann.sessionId!).id, ann.sessionId);
  assert.throws(() => sessions.revokeSession(danAdmin, ann.sessionId!), NotFoundError);
});

test("API tokens: scopes validated; never more than the creator holds; listed and revoked only within the creator's reach", async (t) => {
  const { repos, sessions, as, login, admin } = await setup(t);
  assert.throws(
    () => sessions.createToken(admin, ' ', ['root'], Date.now() - 1),
    (e) => {
      assert.ok(e instanceof ValidationError);
      assert.deepEqual(
        e.issues.map((i) => i.path.join('.')),
        ['name', 'expiresAt', 'scopes'],
      );
      return true;
    },
  );
  assert.throws(() => sessions.createToken(admin, 'x', ['domain:nowhere.example']), NotFoundError);
  sessions.setAdminDomains(admin, 'dan@a.example', ['a.example']);
  const dan = as(await login('dan@a.example'));
  const ann = as(await login('ann@a.example'));
  for (const scopes of [['admin'], ['domain:b.example'], ['user:bea@b.example'], ['domain:a.example', 'admin']])
    assert.throws(() => sessions.createToken(dan, 'x', scopes), ForbiddenError, scopes.join());
  assert.throws(() => sessions.createToken(ann, 'x', ['domain:a.example']), ForbiddenError);
  assert.throws(() => sessions.createToken(ann, 'x', ['user:dan@a.example']), ForbiddenError);
  const danTok = sessions.createToken(dan, 'dan-ci', ['domain:A.example', 'user:ann@a.example']);
  assert.deepEqual(danTok.row.scopes, ['domain:a.example', 'user:ann@a.example']);
  assert.equal(danTok.row.created_by, 'dan@a.example');
  const annTok = sessions.createToken(ann, 'ann-phone', ['user:ann@a.example'], Date.now() + 60_000);
  const adminTok = sessions.createToken(admin, 'ops', ['admin']);
  assert.deepEqual(as(danTok.token).domains, new Set(['a.example']));
  assert.equal(as(annTok.token).user?.email, 'ann@a.example');
  const names = (p: Principal) => sessions.tokens(p).map((r) => r.name);
  assert.deepEqual(names(admin), ['ops', 'ann-phone', 'dan-ci']);
  assert.deepEqual(names(dan), ['ann-phone', 'dan-ci']);
  assert.deepEqual(names(ann), ['ann-phone']);
  assert.throws(() => sessions.revokeToken(ann, danTok.row.id), NotFoundError);
  assert.throws(() => sessions.revokeToken(dan, adminTok.row.id), NotFoundError);
  sessions.revokeToken(dan, annTok.row.id);
  assert.ok('error' in verifyBearer({ adminToken: ADMIN, repos }, `Bearer ${annTok.token}`));
  assert.deepEqual(
    repos.audit
      .list()
      .filter((a) => a.action.startsWith('api_token.'))
      .map((a) => [a.actor, a.action, a.target])
      .reverse(),
    [
      ['dan@a.example', 'api_token.create', 'dan-ci'],
      ['ann@a.example', 'api_token.create', 'ann-phone'],
      ['admin-token', 'api_token.create', 'ops'],
      ['dan@a.example', 'api_token.revoke', 'ann-phone'],
    ],
  );
  assert.ok(!JSON.stringify(repos.audit.list()).includes(danTok.token));
});

test('domain administrators: set by an admin only, unknown domains refused with nothing changed', async (t) => {
  const { repos, sessions, as, login, admin } = await setup(t);
  const ann = as(await login('ann@a.example'));
  assert.throws(() => sessions.setAdminDomains(ann, 'ann@a.example', ['a.example']), ForbiddenError);
  assert.deepEqual(sessions.setAdminDomains(admin, 'ann@a.example', ['b.example', 'a.example']), [
    'a.example',
    'b.example',
  ]);
  assert.throws(() => sessions.setAdminDomains(admin, 'ann@a.example', ['a.example', 'c.example']), NotFoundError);
  assert.throws(() => sessions.setAdminDomains(admin, 'ann@a.example', ['_default']), NotFoundError);
  assert.deepEqual(repos.domainAdmins.adminsOf('b.example'), ['ann@a.example']);
  assert.deepEqual(sessions.setAdminDomains(admin, 'ann@a.example', []), []);
  assert.deepEqual(repos.domainAdmins.adminsOf('b.example'), []);
});
