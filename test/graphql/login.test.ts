// GraphQL login sessions and API tokens (issue #16): TOTP on enforced domains (codes from Debian's oathtool, an
// independent RFC 6238 implementation), replay, recovery codes, logout, expiry, the setup-only session of a user who
// must enrol, brute force through `login`, password changes ending other sessions, and API tokens.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { LOGIN_FAILED } from '../../src/accounts/sessions.ts';
import { TOTP_REQUIRED } from '../../src/auth/login.ts';
import { TOTP_PERIOD } from '../../src/auth/totp.ts';
import { type GqlResult, gql, ok } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';
import { needTool } from '../helpers/tools.ts';

const LOGIN = `mutation($e: String!, $p: String!, $c: String) { login(email: $e, password: $p, totpCode: $c) {
  __typename ... on Login { token expiresAt totpSetupRequired user { email } }
  ... on AuthenticationError { code message } ... on ValidationError { message } } }`;
const ENROL = `mutation($e: String!) { enrolTotp(email: $e) { __typename ... on TotpEnrolment { secret } } }`;
const CONFIRM = `mutation($e: String!, $c: String!) { confirmTotp(email: $e, code: $c) {
  __typename ... on TotpConfirmation { recoveryCodes } ... on AuthenticationError { message } } }`;
const STEP = TOTP_PERIOD * 1000;
/** 2027-01-15 08:00:05 UTC: 5 s into a time step (sessions made then expire long after the real now). */
const T0 = Date.UTC(2027, 0, 15, 8, 0, 5);

const codes = (r: GqlResult) => (r.errors ?? []).map((e) => e.extensions?.code);

async function setup(t: Parameters<typeof needTool>[0], opts: { clock?: number; totp?: boolean } = {}) {
  const oathtool = opts.totp ? needTool(t, 'oathtool', 'oathtool') : 'none';
  if (!oathtool) return undefined;
  let clock = opts.clock ?? T0;
  const s = await startTestServer(t, {}, { now: () => clock });
  /** The code at `ms` as oathtool computes it. */
  const code = (secret: string, ms: number) =>
    execFileSync(oathtool, ['--totp', '-b', secret, '--now', `@${Math.floor(ms / 1000)}`], { encoding: 'utf8' }).trim();
  const login = async (email: string, password = TEST_PASSWORD, totpCode?: string) =>
    (await gql(s.api, LOGIN, { e: email, p: password, c: totpCode }, null)).data.login;
  const as = (token: string, query: string, variables?: Record<string, unknown>) => gql(s.api, query, variables, token);
  /** Enrols TOTP for a user (through the admin token) with a code at the clock; returns secret and recovery codes. */
  const enrol = async (email: string) => {
    const { secret } = (await ok(s.api, ENROL, { e: email })).enrolTotp;
    const c = (await ok(s.api, CONFIRM, { e: email, c: code(secret, clock) })).confirmTotp;
    assert.equal(c.__typename, 'TotpConfirmation');
    return { secret, recoveryCodes: c.recoveryCodes as string[] };
  };
  return {
    ...s,
    code,
    login,
    as,
    enrol,
    clock: () => clock,
    setClock: (ms: number) => {
      clock = ms;
    },
  };
}

async function domain(api: string, name: string, overrides = '{}') {
  await ok(api, `mutation { createDomain(name: "${name}", overrides: ${overrides}) { __typename } }`);
}

test('enforced TOTP: no code asks for one; a wrong or replayed code fails; the right code and a recovery code (once) log in', async (t) => {
  const s = await setup(t, { totp: true });
  if (!s) return;
  await domain(s.api, 'strict.example', '{ auth: { totpEnforced: true } }');
  await s.app.services.accounts.createUser('t', 'ann@strict.example', TEST_PASSWORD);
  const { secret, recoveryCodes } = await s.enrol('ann@strict.example');
  s.setClock(T0 + STEP);

  const none = await s.login('ann@strict.example');
  assert.deepEqual(none, { __typename: 'AuthenticationError', code: 'AUTHENTICATION', message: TOTP_REQUIRED });
  const wrong = await s.login('ann@strict.example', TEST_PASSWORD, s.code(secret, T0 - 10 * STEP));
  assert.deepEqual(wrong, { __typename: 'AuthenticationError', code: 'AUTHENTICATION', message: LOGIN_FAILED });
  const badPassword = await s.login('ann@strict.example', 'not-the-password-1', s.code(secret, T0 + STEP));
  assert.equal(badPassword.message, LOGIN_FAILED);

  const current = s.code(secret, T0 + STEP);
  const good = await s.login('ann@strict.example', TEST_PASSWORD, current);
  assert.equal(good.__typename, 'Login');
  assert.deepEqual(good.user, { email: 'ann@strict.example' });
  assert.equal(good.totpSetupRequired, false);
  assert.equal(new Date(good.expiresAt).getTime(), T0 + STEP + 12 * 3_600_000, 'api.session_hours = 12');
  const me = await s.as(good.token, '{ me { via actor scopes totpSetupRequired user { email } } }');
  assert.deepEqual(me.data.me, {
    via: 'SESSION',
    actor: 'ann@strict.example',
    scopes: ['user:ann@strict.example'],
    totpSetupRequired: false,
    user: { email: 'ann@strict.example' },
  });

  const replay = await s.login('ann@strict.example', TEST_PASSWORD, current);
  assert.equal(replay.message, LOGIN_FAILED, 'a code is accepted once');

  const recovery = await s.login('ann@strict.example', TEST_PASSWORD, recoveryCodes[0]);
  assert.equal(recovery.__typename, 'Login');
  assert.equal((await s.as(recovery.token, '{ me { actor } }')).status, 200);
  const again = await s.login('ann@strict.example', TEST_PASSWORD, recoveryCodes[0]);
  assert.equal(again.message, LOGIN_FAILED, 'a recovery code works once');
});

test('a user of a TOTP-enforcing domain without TOTP gets a setup-only session: me, enrol, confirm, logout; then its usual rights', async (t) => {
  const s = await setup(t, { totp: true });
  if (!s) return;
  await domain(s.api, 'strict.example', '{ auth: { totpEnforced: true } }');
  for (const u of ['amy', 'zoe']) await s.app.services.accounts.createUser('t', `${u}@strict.example`, TEST_PASSWORD);
  await ok(
    s.api,
    'mutation { setUserAdminDomains(email: "amy@strict.example", domains: ["strict.example"]) { __typename } }',
  );

  const l = await s.login('amy@strict.example');
  assert.equal(l.__typename, 'Login');
  assert.equal(l.totpSetupRequired, true);
  const me = await s.as(l.token, '{ me { totpSetupRequired adminDomains user { email } } }');
  assert.deepEqual(me.data.me, { totpSetupRequired: true, adminDomains: [], user: { email: 'amy@strict.example' } });
  for (const q of [
    '{ user(email: "amy@strict.example") { email } }',
    '{ users { totalCount } }',
    '{ sessions(email: "amy@strict.example") { id } }',
    'mutation { createAppPassword(email: "amy@strict.example", name: "x", scopes: [IMAP]) { __typename } }',
    'mutation { createApiToken(name: "x", scopes: ["user:amy@strict.example"]) { __typename } }',
    'mutation { enrolTotp(email: "zoe@strict.example") { __typename } }',
  ]) {
    const r = await s.as(l.token, q);
    assert.deepEqual(codes(r), ['FORBIDDEN'], q);
    if (!q.includes('zoe')) assert.match(r.errors![0]!.message, /enrol TOTP first/, q);
  }
  const { secret } = (await s.as(l.token, ENROL, { e: 'amy@strict.example' })).data.enrolTotp;
  const confirmed = await s.as(l.token, CONFIRM, { e: 'amy@strict.example', c: s.code(secret, s.clock()) });
  assert.equal(confirmed.data.confirmTotp.__typename, 'TotpConfirmation');
  // The same session now has the user's and the domain administrator's rights.
  const after = await s.as(l.token, '{ me { totpSetupRequired adminDomains } users { totalCount } }');
  assert.deepEqual(after.data, {
    me: { totpSetupRequired: false, adminDomains: ['strict.example'] },
    users: { totalCount: 2 },
  });
  // A setup-only session can log out.
  const other = await s.login('zoe@strict.example');
  assert.equal(other.totpSetupRequired, true);
  assert.deepEqual((await s.as(other.token, 'mutation { logout }')).data, { logout: true });
  assert.equal((await s.as(other.token, '{ me { actor } }')).status, 401);
});

test('logout ends the session; an expired session is refused; a password change ends the other sessions only', async (t) => {
  const s = await setup(t, { clock: Date.now() });
  if (!s) return;
  await domain(s.api, 'example.com');
  await s.app.services.accounts.createUser('t', 'bob@example.com', TEST_PASSWORD);
  const one = (await s.login('bob@example.com')).token;
  const two = (await s.login('bob@example.com')).token;
  const list = await s.as(one, '{ sessions(email: "bob@example.com") { id current createdIp expiresAt } }');
  assert.equal(list.data.sessions.length, 2);
  assert.deepEqual(
    list.data.sessions.map((x: { current: boolean; createdIp: string }) => [x.current, x.createdIp]),
    [
      [false, '127.0.0.1'],
      [true, '127.0.0.1'],
    ],
  );

  const CHANGE = `mutation($n: String!) { changePassword(email: "bob@example.com", currentPassword: "${TEST_PASSWORD}", newPassword: $n) {
    __typename ... on AuthenticationError { message } } }`;
  assert.equal((await s.as(one, CHANGE, { n: 'fresh-plover-58' })).data.changePassword.__typename, 'User');
  assert.equal((await s.as(two, '{ me { actor } }')).status, 401, 'the other session ended');
  assert.equal((await s.as(one, '{ me { actor } }')).status, 200, "the caller's own session stays");
  assert.equal((await s.login('bob@example.com')).message, LOGIN_FAILED, 'the old password is gone');

  assert.deepEqual((await s.as(one, 'mutation { logout }')).data, { logout: true });
  const after = await s.as(one, '{ me { actor } }');
  assert.equal(after.status, 401);
  assert.equal(after.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  assert.deepEqual((await ok(s.api, 'mutation { logout }')).logout, false, 'the admin token has no session');

  // A session made 13 hours ago (api.session_hours = 12) has expired.
  s.setClock(Date.now() - 13 * 3_600_000);
  const old = await s.login('bob@example.com', 'fresh-plover-58');
  assert.equal(old.__typename, 'Login');
  const expired = await s.as(old.token, '{ me { actor } }');
  assert.equal(expired.status, 401);
  assert.match(expired.errors![0]!.message, /expired/);
});

test('brute force through login: the threshold-th wrong password blocks the IP (blockedIps), with the wrong-password answer; unblockIp lifts it', async (t) => {
  const s = await setup(t, { clock: Date.now() });
  if (!s) return;
  await domain(s.api, 'example.com', '{ auth: { bruteForceThreshold: 3 } }');
  await s.app.services.accounts.createUser('t', 'bob@example.com', TEST_PASSWORD);
  for (let i = 0; i < 3; i++)
    assert.equal((await s.login('bob@example.com', `wrong-password-${i}`)).message, LOGIN_FAILED);
  const blocks = (await ok(s.api, '{ blockedIps { ip kind reason } }')).blockedIps;
  assert.deepEqual(
    blocks.map((b: { ip: string; kind: string }) => [b.ip, b.kind]),
    [['127.0.0.1', 'AUTO']],
  );
  const blocked = await s.login('bob@example.com');
  assert.deepEqual(blocked, { __typename: 'AuthenticationError', code: 'AUTHENTICATION', message: LOGIN_FAILED });
  await ok(s.api, 'mutation { unblockIp(ip: "127.0.0.1") { __typename } }');
  assert.equal((await s.login('bob@example.com')).__typename, 'Login');
});

test('API tokens: created once with scopes the caller holds, listed without the token, revoked at once, expiry respected', async (t) => {
  const s = await setup(t, { clock: Date.now() });
  if (!s) return;
  for (const d of ['a.example', 'b.example']) await domain(s.api, d);
  await s.app.services.accounts.createUser('t', 'boss@a.example', TEST_PASSWORD);
  await ok(s.api, 'mutation { setUserAdminDomains(email: "boss@a.example", domains: ["a.example"]) { __typename } }');
  const boss = (await s.login('boss@a.example')).token;

  const CREATE = `mutation($n: String!, $s: [String!]!, $x: DateTime) { createApiToken(name: $n, scopes: $s, expiresAt: $x) {
    __typename ... on CreatedApiToken { token apiToken { id name scopes createdBy expiresAt revokedAt } }
    ... on ValidationError { fieldErrors { path message } } } }`;
  const made = (await s.as(boss, CREATE, { n: 'ci', s: ['domain:a.example'] })).data.createApiToken;
  assert.equal(made.__typename, 'CreatedApiToken');
  assert.match(made.token, /^my_/);
  assert.deepEqual(made.apiToken.scopes, ['domain:a.example']);
  assert.equal(made.apiToken.createdBy, 'boss@a.example');
  const usable = await s.as(made.token, '{ users(filter: { domain: "a.example" }) { totalCount } me { actor via } }');
  assert.deepEqual(usable.data, { users: { totalCount: 1 }, me: { actor: 'api-token:ci', via: 'API_TOKEN' } });
  assert.deepEqual(codes(await s.as(made.token, '{ users(filter: { domain: "b.example" }) { totalCount } }')), [
    'FORBIDDEN',
  ]);

  const listed = await s.as(boss, '{ apiTokens { id name scopes } }');
  assert.deepEqual(listed.data.apiTokens, [{ id: made.apiToken.id, name: 'ci', scopes: ['domain:a.example'] }]);
  assert.equal(JSON.stringify(listed).includes(made.token), false);
  const stored = JSON.stringify(s.app.db.$client.prepare('select * from api_tokens').all());
  assert.equal(stored.includes(made.token), false, 'stored hashed');

  for (const scopes of [['admin'], ['domain:b.example'], ['domain:a.example', 'domain:b.example']])
    assert.deepEqual(codes(await s.as(boss, CREATE, { n: 'x', s: scopes })), ['FORBIDDEN'], scopes.join());
  const bad = (await s.as(boss, CREATE, { n: '', s: ['nonsense'] })).data.createApiToken;
  assert.deepEqual(
    bad.fieldErrors.map((e: { path: string[] }) => e.path.join('.')),
    ['name', 'scopes'],
  );

  const revoked = await s.as(
    boss,
    `mutation { revokeApiToken(id: ${made.apiToken.id}) { __typename ... on ApiToken { revokedAt } } }`,
  );
  assert.equal(revoked.data.revokeApiToken.__typename, 'ApiToken');
  assert.ok(revoked.data.revokeApiToken.revokedAt);
  assert.equal((await s.as(made.token, '{ me { actor } }')).status, 401, 'stops working at once');

  // Expiry: a token that expires in an hour works; one whose expiry has passed does not.
  const hour = new Date(Date.now() + 3_600_000).toISOString();
  const later = (await s.as(boss, CREATE, { n: 'hour', s: ['domain:a.example'], x: hour })).data.createApiToken;
  assert.equal(later.apiToken.expiresAt, hour);
  assert.equal((await s.as(later.token, '{ me { actor } }')).status, 200);
  const past = (
    await s.as(boss, CREATE, { n: 'past', s: ['domain:a.example'], x: new Date(s.clock() - 1000).toISOString() })
  ).data.createApiToken;
  assert.deepEqual(past.fieldErrors, [{ path: ['expiresAt'], message: 'must be in the future' }]);
  s.setClock(Date.now() - 2 * 3_600_000); // made "two hours ago", expiring "an hour ago"
  const stale = (
    await s.as(boss, CREATE, { n: 'stale', s: ['domain:a.example'], x: new Date(Date.now() - 3_600_000).toISOString() })
  ).data.createApiToken;
  assert.equal(stale.__typename, 'CreatedApiToken');
  const refused = await s.as(stale.token, '{ me { actor } }');
  assert.equal(refused.status, 401);
  assert.match(refused.errors![0]!.message, /expired/);
});
