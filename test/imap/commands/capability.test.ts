/**
 * CAPABILITY (src/imap/commands/capability.ts): the greeting's and the command's capabilities before and after
 * LOGIN.
 * (Moved from test/imap/auth.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PASSWORD } from '../clients.ts';
import { imapServer } from '../setup.ts';

const capsOf = (line: string) => new Set(/CAPABILITY ([^\]\r\n]*)/.exec(line)?.[1]?.split(' ') ?? []);

test('greeting and CAPABILITY before and after LOGIN (loopback: AUTH=PLAIN allowed without TLS)', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw();
  assert.match(c.greeting, /^\* OK \[CAPABILITY [^\]]+\] mail\.test\.example Mailyard IMAP ready$/);
  const greetCaps = capsOf(c.greeting);
  for (const cap of ['IMAP4rev1', 'STARTTLS', 'AUTH=PLAIN', 'SASL-IR', 'LITERAL+', 'ID', 'IDLE'])
    assert.ok(greetCaps.has(cap), `greeting lacks ${cap}`);
  assert.ok(!greetCaps.has('LOGINDISABLED'));
  assert.ok(!greetCaps.has('UIDPLUS'), 'post-auth capabilities must not be shown before login');
  const pre = await c.cmd('CAPABILITY');
  assert.equal(pre.tagged, 'A1 OK CAPABILITY completed');
  assert.deepEqual(capsOf(pre.lines[0]!), greetCaps);

  const login = await c.cmd(`LOGIN bob@example.com ${PASSWORD}`);
  assert.match(login.tagged, /^A2 OK \[CAPABILITY [^\]]+\] Logged in$/);
  const post = await c.cmd('CAPABILITY');
  const postCaps = capsOf(post.lines[0]!);
  assert.deepEqual(capsOf(login.tagged), postCaps);
  for (const cap of ['UIDPLUS', 'MOVE', 'SPECIAL-USE', 'LIST-EXTENDED', 'LIST-STATUS', 'QUOTA', 'CONDSTORE', 'QRESYNC'])
    assert.ok(postCaps.has(cap), `post-auth CAPABILITY lacks ${cap}`);
  assert.ok(postCaps.has(`APPENDLIMIT=${s.config.smtp.max_message_size}`));
  assert.ok(!postCaps.has('STARTTLS') && !postCaps.has('AUTH=PLAIN'), 'no pre-auth capabilities after login');
  // LOGIN again is a state error.
  assert.match((await c.cmd(`LOGIN bob@example.com ${PASSWORD}`)).tagged, /^A4 BAD LOGIN is not allowed/);
  assert.equal((await c.cmd('LOGOUT')).lines[0], '* BYE Mailyard logging out');
});
