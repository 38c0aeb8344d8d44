// Authenticated submission (src/smtp/submission.ts): who may authenticate, where, and how often it may fail.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ehlo } from '../helpers/smtp.ts';
import { PASSWORD, plain, submissionServer } from './submissionSetup.ts';

test('587: no AUTH before STARTTLS (EHLO lacks it, AUTH gets 538); after STARTTLS AUTH PLAIN and LOGIN work; MAIL before AUTH gets 530 5.7.0', async (t) => {
  const s = await submissionServer(t);
  const c = await ehlo(s.ports.submission);
  t.after(() => c.close());
  const before = await c.cmd('EHLO client.example');
  const kw = before.lines.slice(1).map((l) => l.slice(4));
  assert.ok(kw.includes('STARTTLS'), kw.join(','));
  assert.ok(!kw.some((k) => k.startsWith('AUTH')), `no AUTH before TLS: ${kw.join(',')}`);
  assert.ok(kw.includes('DSN'), 'submission advertises DSN');
  const early = await c.cmd(`AUTH PLAIN ${plain('alice@example.com')}`);
  assert.equal(early.code, 538);
  assert.deepEqual(early.lines, ['538 5.7.11 Encryption required: issue STARTTLS before AUTH']);
  assert.deepEqual((await c.cmd('MAIL FROM:<alice@example.com>')).lines, ['530 5.7.0 Authentication required']);

  const tlsSession = await s.starttls();
  const after = await tlsSession.cmd('EHLO client.example');
  assert.ok(
    after.lines.some((l) => /^250[- ]AUTH PLAIN LOGIN$/.test(l)),
    after.lines.join(' | '),
  );
  assert.deepEqual((await tlsSession.cmd('MAIL FROM:<alice@example.com>')).lines, [
    '530 5.7.0 Authentication required',
  ]);
  assert.equal(
    (await tlsSession.cmd(`AUTH PLAIN ${plain('Alice@Example.com')}`)).code,
    235,
    'login names are case-insensitive',
  );
  assert.equal((await tlsSession.cmd('MAIL FROM:<alice@example.com>')).code, 250);

  const login = await s.starttls();
  assert.equal((await login.cmd('AUTH LOGIN')).code, 334);
  assert.equal((await login.cmd(Buffer.from('alice@example.com').toString('base64'))).code, 334);
  assert.equal((await login.cmd(Buffer.from(PASSWORD).toString('base64'))).code, 235);

  // The MX keeps AUTH and DSN off.
  const mx = await ehlo(s.ports.relay);
  t.after(() => mx.close());
  const mxKw = (await mx.cmd('EHLO client.example')).lines.map((l) => l.slice(4));
  assert.ok(!mxKw.some((k) => k.startsWith('AUTH') || k === 'DSN'), mxKw.join(','));
});

test('465: AUTH is offered at once over implicit TLS', async (t) => {
  const s = await submissionServer(t);
  const c = await s.implicit();
  const r = await c.cmd('EHLO client.example');
  assert.ok(r.lines.some((l) => /AUTH PLAIN LOGIN/.test(l)));
  assert.ok(!r.lines.some((l) => /STARTTLS/.test(l)));
  assert.equal((await c.cmd(`AUTH PLAIN ${plain('alice@example.com')}`)).code, 235);
});

test('a wrong password, an unknown user, a disabled user and a user of a disabled domain all get 535 5.7.8; the log says why', async (t) => {
  const s = await submissionServer(t);
  s.app.repos.users.update('bob@example.com', { status: 'disabled' });
  await s.app.services.domains.create('test', 'closed.example', true);
  await s.app.services.accounts.createUser('test', 'erin@closed.example', PASSWORD);
  s.app.repos.domains.update('closed.example', { status: 'disabled' });
  const cases: [string, string, RegExp][] = [
    ['alice@example.com', 'wrong-password', /invalid credentials/],
    ['nobody@example.com', PASSWORD, /unknown user/],
    ['bob@example.com', PASSWORD, /user is disabled/],
    ['erin@closed.example', PASSWORD, /domain is disabled/],
  ];
  const proxy = await s.starttls();
  const asBob = Buffer.from(`bob@example.com\0alice@example.com\0${PASSWORD}`).toString('base64');
  assert.deepEqual((await proxy.cmd(`AUTH PLAIN ${asBob}`)).lines, ['535 5.7.8 Authentication credentials invalid']);
  assert.match(String(s.logged('authentication failed').at(-1)!.reason), /authorization identity/);
  const sameId = Buffer.from(`alice@example.com\0alice@example.com\0${PASSWORD}`).toString('base64');
  assert.equal((await (await s.starttls()).cmd(`AUTH PLAIN ${sameId}`)).code, 235);
  for (const [user, pass, why] of cases) {
    const c = await s.starttls();
    const r = await c.cmd(`AUTH PLAIN ${plain(user, pass)}`);
    assert.deepEqual(r.lines, ['535 5.7.8 Authentication credentials invalid'], user);
    const line = s.logged('authentication failed').findLast((l) => l.username === user);
    assert.ok(line, `log line for ${user}`);
    assert.match(String(line.reason), why);
    assert.equal(line.ip, '127.0.0.1');
    // Still not authenticated.
    assert.equal((await c.cmd('MAIL FROM:<alice@example.com>')).code, 530);
  }
});

test('ratelimit_auth_per_ip: failures past the rule get 454 4.7.0 (even with the right password) until the window slides; unknown domains use _default', async (t) => {
  const s = await submissionServer(t);
  s.app.repos.domains.update('example.com', { ratelimit_auth_per_ip: { count: 3, window_minutes: 15 } });
  const c = await s.starttls();
  for (let i = 0; i < 3; i++)
    assert.equal((await c.cmd(`AUTH PLAIN ${plain('alice@example.com', 'bad')}`)).code, 535, `failure ${i + 1}`);
  const blocked = await c.cmd(`AUTH PLAIN ${plain('alice@example.com')}`);
  assert.deepEqual(blocked.lines, ['454 4.7.0 Too many failed authentication attempts, try again later']);
  const line = s.logged('rate_limit_exceeded').at(-1)!;
  assert.equal(line.ip, '127.0.0.1');
  assert.equal(line.username, 'alice@example.com');
  assert.equal(line.rule, 'auth_per_ip');
  // Another domain's rule counts on its own.
  assert.equal((await c.cmd(`AUTH PLAIN ${plain('dave@other.example')}`)).code, 235);
  // The window slides on: allowed again.
  s.clock.now += 31 * 60_000;
  const later = await s.starttls();
  assert.equal((await later.cmd(`AUTH PLAIN ${plain('alice@example.com')}`)).code, 235);

  // Successful logins are not counted.
  for (let i = 0; i < 5; i++) {
    const ok = await s.starttls();
    assert.equal((await ok.cmd(`AUTH PLAIN ${plain('alice@example.com')}`)).code, 235);
  }

  // Unknown domains: the _default template's rule; off when its ratelimit_enabled is off.
  s.app.repos.domains.update('_default', { ratelimit_auth_per_ip: { count: 2, window_minutes: 15 } });
  const u = await s.starttls();
  assert.equal((await u.cmd(`AUTH PLAIN ${plain('x@unknown.example', 'bad')}`)).code, 535);
  assert.equal((await u.cmd(`AUTH PLAIN ${plain('y@unknown.example', 'bad')}`)).code, 535);
  assert.equal((await u.cmd(`AUTH PLAIN ${plain('z@unknown.example', 'bad')}`)).code, 454);
  s.app.repos.domains.update('_default', { ratelimit_enabled: false });
  assert.equal((await u.cmd(`AUTH PLAIN ${plain('z@unknown.example', 'bad')}`)).code, 535);
});

test('a user or domain disabled after AUTH cannot send in the same session: MAIL gets 550 5.7.1', async (t) => {
  const s = await submissionServer(t);
  const c = await s.session('alice@example.com');
  assert.equal((await c.cmd('MAIL FROM:<alice@example.com>')).code, 250);
  assert.equal((await c.cmd('RSET')).code, 250);
  s.app.repos.users.update('alice@example.com', { status: 'suspended' });
  assert.deepEqual((await c.cmd('MAIL FROM:<alice@example.com>')).lines, [
    '550 5.7.1 Account alice@example.com is not allowed to send mail',
  ]);
  assert.equal(s.logged('message rejected').at(-1)!.why, 'user is suspended');

  const d = await s.session('dave@other.example');
  s.app.repos.domains.update('other.example', { status: 'disabled' });
  assert.equal((await d.cmd('MAIL FROM:<dave@other.example>')).code, 550);
  assert.equal(s.logged('message rejected').at(-1)!.why, 'domain is disabled');
});
