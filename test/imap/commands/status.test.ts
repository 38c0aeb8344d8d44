/**
 * STATUS (src/imap/commands/status.ts) items, and NAMESPACE (namespace.ts) in the same session.
 * (Moved from test/imap/mailboxes.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { message } from '../../helpers/smtp.ts';
import { imapServer } from '../setup.ts';

test('STATUS items and NAMESPACE', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('one'));
  await s.deliver('bob@example.com', message('two'));
  await s.deliver('bob@example.com', message('three'));
  const rows = s.inbox('bob@example.com').rows;
  const c = await s.raw({ login: 'bob@example.com' });
  const before = await c.cmd('STATUS INBOX (MESSAGES RECENT UIDNEXT UIDVALIDITY UNSEEN SIZE DELETED)');
  const uv = s.inbox('bob@example.com').box.uidvalidity;
  const size = rows.reduce((n, r) => n + r.size, 0);
  assert.equal(
    before.lines[0],
    `* STATUS "INBOX" (MESSAGES 3 RECENT 3 UIDNEXT 4 UIDVALIDITY ${uv} UNSEEN 3 SIZE ${size} DELETED 0)`,
  );
  const other = await s.raw({ login: 'bob@example.com' });
  await other.cmd('SELECT INBOX');
  await other.cmd('STORE 1 +FLAGS (\\Seen \\Deleted)');
  const after = await c.cmd('STATUS inbox (UNSEEN DELETED RECENT HIGHESTMODSEQ)');
  const modseq = s.inbox('bob@example.com').box.highestmodseq;
  assert.equal(after.lines[0], `* STATUS "INBOX" (UNSEEN 2 DELETED 1 RECENT 0 HIGHESTMODSEQ ${modseq})`);
  assert.match((await c.cmd('STATUS Nope (MESSAGES)')).tagged, /NO \[NONEXISTENT\]/);
  assert.match((await c.cmd('STATUS INBOX (FOO)')).tagged, /BAD Unknown STATUS item FOO/);
  assert.match((await c.cmd('STATUS INBOX ()')).tagged, /BAD /);
  assert.deepEqual((await c.cmd('NAMESPACE')).lines, ['* NAMESPACE (("" "/")) NIL NIL']);
});
