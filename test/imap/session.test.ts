/**
 * Session-level behaviour that belongs to no single command: the autologout timer (imap.idle_timeout).
 * (Moved from test/imap/auth.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imapServer } from './setup.ts';

test('imap.idle_timeout: an idle session is logged out with BYE; a command restarts the timer', async (t) => {
  const s = await imapServer(t, { imap: { idle_timeout: 0.6 } });
  const c = await s.raw({ login: 'bob@example.com' });
  const start = Date.now();
  for (let i = 0; i < 4; i++) {
    // Deliberately lets time pass (half the timeout): the commands must keep the session alive past 0.6 s.
    await new Promise((r) => setTimeout(r, 300));
    assert.equal((await c.cmd('NOOP')).tagged, `A${i + 2} OK NOOP completed`);
  }
  assert.ok(Date.now() - start > 1000, 'kept alive by commands beyond the timeout');
  assert.equal(await c.readLine(3000), '* BYE Autologout; idle for too long');
  await assert.rejects(c.readLine(2000), /connection closed/);
});
