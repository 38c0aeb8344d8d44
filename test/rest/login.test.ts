// REST logins and what they give (issue #16): POST /api/login, /api/logout, /api/me, a user's sessions, API
// tokens (scopes the caller holds only, revocation effective at once), domain administrators made with PUT
// /api/users/{email}/admin-domains, TOTP enrolment over REST (and the setup-required session of a TOTP-enforcing
// domain), own password changes, and the brute-force guard on the login: a blocked client gets exactly the
// wrong-password answer, after the same delay, and the block is listed by GET /api/blocked-ips.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { totpCode } from '../../src/auth/totp.ts';
import { TOKEN } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';

type Json = any;

async function call(
  api: string,
  method: string,
  path: string,
  body?: unknown,
  token: string | null = TOKEN,
  headers: Record<string, string> = {},
) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: {
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as Json };
}

const A = 'a.example';
const B = 'b.example';
const ALICE = `alice@${A}`;
const CAROL = `carol@${A}`;
const DADMIN = `dadmin@${A}`;
const LOGIN_FAILED = 'invalid email, password or TOTP code';

async function server(t: Parameters<typeof startTestServer>[0]) {
  const s = await startTestServer(t);
  for (const d of [A, B]) await s.app.services.domains.create('test', d, true);
  for (const u of [ALICE, CAROL, DADMIN, `bob@${B}`])
    await s.app.services.accounts.createUser('test', u, TEST_PASSWORD);
  const login = async (email: string, password = TEST_PASSWORD, extra: Record<string, unknown> = {}) =>
    call(s.api, 'POST', '/api/login', { email, password, ...extra }, null);
  const session = async (email: string) => {
    const r = await login(email);
    assert.equal(r.status, 200, JSON.stringify(r.body));
    return r.body.token as string;
  };
  return { ...s, login, session };
}

test('login, me, sessions, logout: a session token works until it is logged out or ended', async (t) => {
  const s = await server(t);
  const bad = await call(s.api, 'POST', '/api/login', { email: ALICE, password: 42, extra: 1 }, null);
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.fields.map((f: Json) => f.field).sort(), ['extra', 'password']);

  const before = Date.now();
  const first = await call(s.api, 'POST', '/api/login', { email: ALICE, password: TEST_PASSWORD }, null, {
    'user-agent': 'curl/8.0',
  });
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.deepEqual(Object.keys(first.body).sort(), ['expires_at', 'token', 'totp_setup_required']);
  assert.match(first.body.token, /^mys_/);
  assert.equal(first.body.totp_setup_required, false);
  // api.session_hours (12 by default).
  assert.ok(Math.abs(first.body.expires_at - (before + 12 * 3_600_000)) < 60_000, String(first.body.expires_at));
  const token = first.body.token as string;

  const me = await call(s.api, 'GET', '/api/me', undefined, token);
  assert.equal(me.status, 200);
  assert.equal(me.body.actor, ALICE);
  assert.equal(me.body.via, 'session');
  assert.equal(me.body.admin, false);
  assert.deepEqual(me.body.domains, []);
  assert.deepEqual(me.body.scopes, [`user:${ALICE}`]);
  assert.equal(me.body.user.email, ALICE);
  assert.equal(me.body.user.password_hash, undefined);
  assert.equal(typeof me.body.session_id, 'number');
  const admin = await call(s.api, 'GET', '/api/me');
  assert.deepEqual([admin.body.actor, admin.body.admin, admin.body.user], ['admin-token', true, null]);

  const second = await s.session(ALICE);
  const listed = await call(s.api, 'GET', `/api/users/${ALICE}/sessions`, undefined, token);
  assert.equal(listed.status, 200);
  assert.equal(listed.body.length, 2);
  const mine = listed.body.find((x: Json) => x.current);
  assert.equal(mine.id, me.body.session_id);
  assert.equal(mine.user_agent, 'curl/8.0');
  assert.equal(mine.created_ip, '127.0.0.1');
  assert.equal(JSON.stringify(listed.body).includes('mys_'), false, 'tokens are never listed');
  // Another user's sessions are not alice's to see or end.
  const carolToken = await s.session(CAROL);
  assert.equal((await call(s.api, 'GET', `/api/users/${CAROL}/sessions`, undefined, token)).status, 403);
  const carolSession = (await call(s.api, 'GET', '/api/me', undefined, carolToken)).body.session_id;
  assert.equal((await call(s.api, 'DELETE', `/api/sessions/${carolSession}`, undefined, token)).status, 404);
  assert.equal((await call(s.api, 'GET', '/api/me', undefined, carolToken)).status, 200);

  // Ending the second session stops its token at once.
  const other = listed.body.find((x: Json) => !x.current);
  const ended = await call(s.api, 'DELETE', `/api/sessions/${other.id}`, undefined, token);
  assert.deepEqual([ended.status, ended.body.deleted], [200, other.id]);
  const gone = await call(s.api, 'GET', '/api/me', undefined, second);
  assert.deepEqual([gone.status, gone.body.error], [401, 'unauthorized']);
  assert.equal((await call(s.api, 'DELETE', `/api/sessions/${other.id}`, undefined, token)).status, 404);
  assert.equal((await call(s.api, 'DELETE', '/api/sessions/x', undefined, token)).status, 400);

  // Logout ends the caller's own session; the admin token is not a session.
  assert.deepEqual((await call(s.api, 'POST', '/api/logout', undefined, token)).body, { logged_out: true });
  assert.equal((await call(s.api, 'GET', '/api/me', undefined, token)).status, 401);
  assert.deepEqual((await call(s.api, 'POST', '/api/logout')).body, { logged_out: false });
  assert.ok(s.app.repos.audit.list({ limit: 50 }).some((a) => a.action === 'session.logout' && a.actor === ALICE));
});

test('a wrong password, an unknown user and a blocked client get the same 401 after the same delay; the block is listed in GET /api/blocked-ips', async (t) => {
  const s = await server(t);
  const r = await call(s.api, 'PUT', `/api/domains/${A}/security`, {
    auth: { brute_force_threshold: 3, brute_force_window_minutes: 15, brute_force_block_minutes: 60 },
  });
  assert.equal(r.status, 200);
  const timed = async (email: string, password: string) => {
    const started = Date.now();
    const res = await s.login(email, password);
    return { ...res, ms: Date.now() - started };
  };
  const answers = [];
  for (let i = 0; i < 3; i++) answers.push(await timed(ALICE, `wrong-${i}`));
  const blocked = await timed(ALICE, TEST_PASSWORD);
  const otherUser = await timed(CAROL, TEST_PASSWORD);
  for (const a of [...answers, blocked, otherUser]) {
    assert.equal(a.status, 401);
    assert.deepEqual(a.body, { error: 'authentication_failed', message: LOGIN_FAILED });
    assert.ok(a.ms >= 250, `answered after ${a.ms} ms`);
  }

  const list = await call(s.api, 'GET', '/api/blocked-ips');
  assert.equal(list.status, 200);
  const block = list.body.find((b: Json) => b.ip === '127.0.0.1');
  assert.ok(block, JSON.stringify(list.body));
  assert.equal(block.kind, 'auto');
  assert.ok(block.blocked_until > Date.now() + 59 * 60_000);
  // Lifting it lets the right password in again.
  assert.equal((await call(s.api, 'DELETE', '/api/blocked-ips/127.0.0.1')).status, 200);
  assert.equal((await s.login(ALICE)).status, 200);

  // An unknown user is answered like a wrong password.
  const unknown = await timed(`nobody@${A}`, TEST_PASSWORD);
  assert.deepEqual([unknown.status, unknown.body], [401, { error: 'authentication_failed', message: LOGIN_FAILED }]);
  assert.ok(unknown.ms >= 250);
});

test('API tokens: only scopes the caller holds, shown once, listed without the secret, revoked at once', async (t) => {
  const s = await server(t);
  const made = await call(s.api, 'PUT', `/api/users/${DADMIN}/admin-domains`, { domains: [A] });
  assert.deepEqual(made.body, { email: DADMIN, domains: [A] });
  assert.deepEqual((await call(s.api, 'GET', `/api/users/${DADMIN}/admin-domains`)).body.domains, [A]);
  for (const domains of [['missing.example'], ['_default']])
    assert.equal((await call(s.api, 'PUT', `/api/users/${DADMIN}/admin-domains`, { domains })).status, 404);
  const da = await s.session(DADMIN);
  const me = (await call(s.api, 'GET', '/api/me', undefined, da)).body;
  assert.deepEqual(me.domains, [A]);
  assert.deepEqual(me.scopes.sort(), [`domain:${A}`, `user:${DADMIN}`]);
  // A domain admin cannot make itself more.
  const self = await call(s.api, 'PUT', `/api/users/${DADMIN}/admin-domains`, { domains: [A, B] }, da);
  assert.deepEqual([self.status, self.body.error], [403, 'forbidden']);

  for (const scopes of [['admin'], [`domain:${B}`], [`domain:${A}`, `user:bob@${B}`]]) {
    const r = await call(s.api, 'POST', '/api/tokens', { name: 'ci', scopes }, da);
    assert.deepEqual([r.status, r.body.error], [403, 'forbidden'], JSON.stringify(scopes));
  }
  const invalid = await call(s.api, 'POST', '/api/tokens', { name: '', scopes: ['bogus'], expires_at: 1 }, da);
  assert.equal(invalid.status, 400);
  assert.deepEqual(invalid.body.fields.map((f: Json) => f.field).sort(), ['expires_at', 'name', 'scopes']);

  const created = await call(s.api, 'POST', '/api/tokens', { name: 'ci', scopes: [`domain:${A}`] }, da);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  assert.match(created.body.token, /^my_/);
  assert.equal(created.body.created_by, DADMIN);
  const ci = created.body.token as string;
  const listed = await call(s.api, 'GET', '/api/tokens', undefined, da);
  assert.deepEqual(
    listed.body.map((x: Json) => x.name),
    ['ci'],
  );
  assert.equal(listed.body[0].token, undefined);
  assert.equal(JSON.stringify(listed.body).includes(ci), false);

  const viaToken = await call(s.api, 'GET', `/api/users?domain=${A}`, undefined, ci);
  assert.equal(viaToken.status, 200);
  assert.equal((await call(s.api, 'GET', `/api/users?domain=${B}`, undefined, ci)).status, 403);
  const tokenMe = (await call(s.api, 'GET', '/api/me', undefined, ci)).body;
  assert.deepEqual([tokenMe.via, tokenMe.actor, tokenMe.domains], ['api-token', 'api-token:ci', [A]]);

  // A plain user neither sees nor revokes it; the domain admin revokes it and it stops at once.
  const alice = await s.session(ALICE);
  assert.deepEqual((await call(s.api, 'GET', '/api/tokens', undefined, alice)).body, []);
  assert.equal((await call(s.api, 'DELETE', `/api/tokens/${created.body.id}`, undefined, alice)).status, 404);
  const revoked = await call(s.api, 'DELETE', `/api/tokens/${created.body.id}`, undefined, da);
  assert.deepEqual([revoked.status, revoked.body.deleted], [200, created.body.id]);
  const stopped = await call(s.api, 'GET', `/api/users?domain=${A}`, undefined, ci);
  assert.deepEqual([stopped.status, stopped.body.error], [401, 'unauthorized']);
  assert.equal((await call(s.api, 'DELETE', `/api/tokens/${created.body.id}`, undefined, da)).status, 409);

  // A user's own token acts as the user, and no further.
  const own = await call(s.api, 'POST', '/api/tokens', { name: 'mine', scopes: [`user:${ALICE}`] }, alice);
  assert.equal(own.status, 201);
  assert.equal((await call(s.api, 'GET', `/api/users/${ALICE}`, undefined, own.body.token)).status, 200);
  assert.equal((await call(s.api, 'GET', `/api/users/${CAROL}`, undefined, own.body.token)).status, 403);
  // The admin may mint admin tokens (with an expiry), which work at once.
  const adminToken = await call(s.api, 'POST', '/api/tokens', {
    name: 'ops',
    scopes: ['admin'],
    expires_at: Date.now() + 3_600_000,
  });
  assert.equal(adminToken.status, 201);
  assert.equal((await call(s.api, 'GET', '/api/queue/summary', undefined, adminToken.body.token)).status, 200);
  assert.equal((await call(s.api, 'GET', '/api/tokens')).body.length, 2);
});

test('TOTP over REST: a setup-required session may only read me, enrol, confirm and log out; then the login needs a code', async (t) => {
  const s = await server(t);
  const C = 'c.example';
  const ERIN = `erin@${C}`;
  await s.app.services.domains.create('test', C, true);
  await s.app.services.accounts.createUser('test', ERIN, TEST_PASSWORD);
  assert.equal((await call(s.api, 'PUT', `/api/domains/${C}/security`, { auth: { totp_enforced: true } })).status, 200);
  const first = await s.login(ERIN);
  assert.deepEqual([first.status, first.body.totp_setup_required], [200, true]);
  const token = first.body.token as string;
  assert.equal((await call(s.api, 'GET', '/api/me', undefined, token)).body.totp_setup_required, true);
  for (const [m, p, b] of [
    ['GET', `/api/users/${ERIN}`],
    ['GET', `/api/users/${ERIN}/app-passwords`],
    ['GET', `/api/users/${ERIN}/sessions`],
    ['POST', '/api/tokens', { name: 'x', scopes: [`user:${ERIN}`] }],
  ] as const) {
    const r = await call(s.api, m, p, b, token);
    assert.deepEqual([r.status, r.body.error], [403, 'forbidden'], `${m} ${p}`);
    assert.match(r.body.message, /enrol TOTP/);
  }

  const enrol = await call(s.api, 'POST', `/api/users/${ERIN}/totp`, undefined, token);
  assert.equal(enrol.status, 201, JSON.stringify(enrol.body));
  assert.match(enrol.body.secret, /^[A-Z2-7]{32}$/);
  assert.match(enrol.body.uri, /^otpauth:\/\/totp\//);
  assert.match(enrol.body.qr_svg_data_url, /^data:image\/svg\+xml;base64,/);
  assert.deepEqual((await call(s.api, 'GET', `/api/users/${ERIN}/totp`)).body, {
    enabled: false,
    pending: true,
    recovery_codes_left: 0,
  });
  const wrong = await call(s.api, 'POST', `/api/users/${ERIN}/totp/confirm`, { code: '000000' }, token);
  assert.deepEqual([wrong.status, wrong.body.error], [403, 'authentication_failed']);
  const code = await totpCode(enrol.body.secret, Date.now());
  const confirmed = await call(s.api, 'POST', `/api/users/${ERIN}/totp/confirm`, { code }, token);
  assert.equal(confirmed.status, 200, JSON.stringify(confirmed.body));
  assert.equal(confirmed.body.recovery_codes.length, 10);
  assert.equal(confirmed.body.user.totp_enabled, true);
  // The same session now has its full rights.
  assert.equal((await call(s.api, 'GET', `/api/users/${ERIN}`, undefined, token)).status, 200);
  assert.equal((await call(s.api, 'GET', '/api/me', undefined, token)).body.totp_setup_required, false);

  // The login now needs a code: none asks for it, a wrong or replayed one fails, a recovery code works once.
  const none = await s.login(ERIN);
  assert.equal(none.status, 401);
  assert.match(none.body.message, /TOTP code/);
  for (const c of ['123456', code]) {
    const r = await s.login(ERIN, TEST_PASSWORD, { totp_code: c });
    assert.deepEqual([r.status, r.body.message], [401, LOGIN_FAILED], c);
  }
  const recovery = confirmed.body.recovery_codes[0] as string;
  const withRecovery = await s.login(ERIN, TEST_PASSWORD, { totp_code: recovery });
  assert.deepEqual([withRecovery.status, withRecovery.body.totp_setup_required], [200, false]);
  assert.equal((await s.login(ERIN, TEST_PASSWORD, { totp_code: recovery })).status, 401);

  // Disabling one's own TOTP needs a code; an admin may do it without one (a lost device).
  const noCode = await call(s.api, 'DELETE', `/api/users/${ERIN}/totp`, undefined, token);
  assert.deepEqual([noCode.status, noCode.body.fields?.[0]?.field], [400, 'code']);
  const byAdmin = await call(s.api, 'DELETE', `/api/users/${ERIN}/totp`);
  assert.deepEqual([byAdmin.status, byAdmin.body.totp_enabled], [200, false]);
  const again = await call(s.api, 'DELETE', `/api/users/${ERIN}/totp`, {
    code: confirmed.body.recovery_codes[1],
  });
  assert.equal(again.status, 409, 'already off');
});

test('passwords: one’s own change needs the current password and keeps the caller’s session; a domain admin may set another’s', async (t) => {
  const s = await server(t);
  assert.equal((await call(s.api, 'PUT', `/api/users/${DADMIN}/admin-domains`, { domains: [A] })).status, 200);
  const alice = await s.session(ALICE);
  const aliceElsewhere = await s.session(ALICE);
  const NEW = 'amber-kestrel-2031';
  const path = `/api/users/${ALICE}/password`;
  const missing = await call(s.api, 'PUT', path, { password: NEW }, alice);
  assert.deepEqual([missing.status, missing.body.fields?.[0]?.field], [400, 'current_password']);
  const wrong = await call(s.api, 'PUT', path, { current_password: 'nope-nope-nope', password: NEW }, alice);
  assert.deepEqual([wrong.status, wrong.body.error], [403, 'authentication_failed']);
  const changed = await call(s.api, 'PUT', path, { current_password: TEST_PASSWORD, password: NEW }, alice);
  assert.equal(changed.status, 200, JSON.stringify(changed.body));
  assert.equal((await call(s.api, 'GET', '/api/me', undefined, alice)).status, 200, 'the caller stays logged in');
  assert.equal((await call(s.api, 'GET', '/api/me', undefined, aliceElsewhere)).status, 401, 'other sessions end');
  assert.equal((await s.login(ALICE, NEW)).status, 200);

  // Another user's password is not alice's to change; the domain admin sets it without the current one.
  assert.equal((await call(s.api, 'PUT', `/api/users/${CAROL}/password`, { password: NEW }, alice)).status, 403);
  const da = await s.session(DADMIN);
  assert.equal((await call(s.api, 'PUT', `/api/users/${CAROL}/password`, { password: NEW }, da)).status, 200);
  assert.equal((await s.login(CAROL, NEW)).status, 200);
  // Its own needs the current one like anybody's.
  const own = await call(s.api, 'PUT', `/api/users/${DADMIN}/password`, { password: NEW }, da);
  assert.equal(own.status, 400);
  assert.ok(s.app.repos.audit.list({ limit: 50 }).some((a) => a.action === 'user.set_password' && a.actor === DADMIN));
});
