/**
 * LOGIN (src/imap/commands/login.ts): good and bad credentials, disabled users and domains, the failed-login
 * limit, and the per-user session limit enforced at login.
 * (Moved from test/imap/auth.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitUntil } from '../../helpers/wait.ts';
import { PASSWORD } from '../clients.ts';
import { imapServer } from '../setup.ts';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

test('LOGIN: good password; bad password, unknown user, disabled user and disabled domain are all AUTHENTICATIONFAILED', async (t) => {
  const s = await imapServer(t);
  const attempt = async (user: string, pass = PASSWORD) => (await (await s.raw()).cmd(`LOGIN ${user} ${pass}`)).tagged;
  assert.match(await attempt('bob@example.com'), /^A1 OK /);
  assert.match(await attempt('BOB@Example.COM'), /^A1 OK /, 'the login name is case-insensitive');
  const failed = 'A1 NO [AUTHENTICATIONFAILED] Authentication failed';
  assert.equal(await attempt('bob@example.com', 'wrong-password'), failed);
  assert.equal(await attempt('nobody@example.com'), failed);
  assert.equal(await attempt('bob'), failed, 'the login name is the full address');

  s.app.repos.users.update('carol@example.com', { status: 'disabled' });
  assert.equal(await attempt('carol@example.com'), failed);
  s.app.repos.users.update('carol@example.com', { status: 'suspended' });
  assert.equal(await attempt('carol@example.com'), failed);
  s.app.repos.users.update('carol@example.com', { status: 'active' });
  assert.match(await attempt('carol@example.com'), /^A1 OK /);

  s.app.repos.domains.update('other.example', { status: 'disabled' });
  assert.equal(await attempt('dave@other.example'), failed);
  s.app.repos.domains.update('other.example', { status: 'active' });
  assert.match(await attempt('dave@other.example'), /^A1 OK /);
});

test('the third failed login is answered NO, then BYE, and the connection closes', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw();
  assert.match((await c.cmd('LOGIN bob@example.com bad1')).tagged, /^A1 NO \[AUTHENTICATIONFAILED\]/);
  assert.match((await c.cmd(`AUTHENTICATE PLAIN ${b64('\0bob@example.com\0bad2')}`)).tagged, /^A2 NO \[AUTH/);
  const third = await c.cmd('LOGIN bob@example.com bad3');
  assert.equal(third.tagged, 'A3 NO [AUTHENTICATIONFAILED] Authentication failed');
  assert.equal(await c.readLine(), '* BYE Too many failed authentication attempts');
  await assert.rejects(c.readLine(2000), /connection closed/);
  // A new connection may log in.
  await s.raw({ login: 'bob@example.com' });
});

test('imap.max_sessions_per_user: the session over the limit gets NO [LIMIT]; a freed slot can be reused', async (t) => {
  const s = await imapServer(t, { imap: { max_sessions_per_user: 2 } });
  const a = await s.raw({ login: 'bob@example.com' });
  await s.raw({ login: 'bob@example.com' });
  const c = await s.raw();
  assert.equal(
    (await c.cmd(`LOGIN bob@example.com ${PASSWORD}`)).tagged,
    'A1 NO [LIMIT] Too many simultaneous sessions for this user',
  );
  // Another user is not affected.
  await s.raw({ login: 'carol@example.com' });
  await a.cmd('LOGOUT');
  await a.waitClosed();
  // The slot is released when the server has finished with the closed session: retry until then (deadline).
  let r = '';
  await waitUntil(
    async () => {
      r = (await c.cmd(`LOGIN bob@example.com ${PASSWORD}`)).tagged;
      return / OK /.test(r);
    },
    'the freed session slot',
    { intervalMs: 20, detail: () => r },
  );
  assert.match(r, /^A\d+ OK \[CAPABILITY/);
});
