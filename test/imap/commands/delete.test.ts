/**
 * DELETE (src/imap/commands/delete.ts): INBOX refused, NONEXISTENT, messages and used_bytes go, children stay.
 * (Moved from test/imap/mailboxes.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { message } from '../../helpers/smtp.ts';
import { imapServer } from '../setup.ts';
import { append, curFiles, userRoot } from '../shared.ts';

test('DELETE: INBOX refused, unknown NONEXISTENT; messages go, used_bytes drops, the folder is removed, children stay', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  assert.equal((await c.cmd('DELETE INBOX')).tagged, 'A2 NO [CANNOT] INBOX cannot be deleted');
  assert.equal((await c.cmd('DELETE Nope')).tagged, 'A3 NO [NONEXISTENT] Mailbox Nope does not exist');
  await c.cmd('CREATE Old/Kid');
  const body = message('to delete').toString();
  await append(c, 'Old', body);
  await append(c, 'Old', body);
  await append(c, 'Old/Kid', body);
  await append(c, 'INBOX', body);
  const size = Buffer.byteLength(body);
  const used = () => s.app.repos.users.get('bob@example.com')!.used_bytes;
  assert.equal(used(), 4 * size);
  const root = userRoot(s, 'bob@example.com');
  assert.equal(curFiles(join(root, '.Old')).length, 2);
  // A session with Old selected is told BYE when another session deletes it.
  const other = await s.raw({ login: 'bob@example.com' });
  await other.cmd('SELECT Old');
  assert.match((await c.cmd('DELETE Old')).tagged, /^A\d+ OK DELETE completed$/);
  assert.equal(used(), 2 * size);
  assert.ok(!existsSync(join(root, '.Old')), 'folder removed');
  assert.equal(curFiles(join(root, '.Old.Kid')).length, 1, 'child folder kept');
  assert.equal(curFiles(root).length, 1, 'INBOX untouched');
  const st = await c.cmd('STATUS Old/Kid (MESSAGES)');
  assert.equal(st.lines[0], '* STATUS "Old/Kid" (MESSAGES 1)');
  assert.match((await c.cmd('SELECT Old')).tagged, /NO \[NONEXISTENT\]/);
  // Like Dovecot: that session is told BYE at its next command and disconnected.
  other.write('B1 NOOP\r\n');
  assert.equal(await other.readLine(), '* BYE The selected mailbox was deleted by another session');
  await assert.rejects(other.readLine(2000), /connection closed/);
  // Re-creating the name gives an empty mailbox with a new UIDVALIDITY.
  await c.cmd('CREATE Old');
  const st2 = await c.cmd('STATUS Old (MESSAGES UIDNEXT)');
  assert.equal(st2.lines[0], '* STATUS "Old" (MESSAGES 0 UIDNEXT 1)');
});
