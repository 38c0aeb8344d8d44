/**
 * STORE (src/imap/commands/store.ts): +FLAGS/-FLAGS/FLAGS, .SILENT, keywords; index, FETCH and Maildir agree.
 * (Moved from test/imap/messages.test.ts.)
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { test } from 'node:test';
import { message } from '../../helpers/smtp.ts';
import { imapServer } from '../setup.ts';

test('STORE: +FLAGS/-FLAGS/FLAGS, .SILENT, keywords; index, FETCH and Maildir file names agree', async (t) => {
  const s = await imapServer(t);
  for (let i = 0; i < 3; i++) await s.deliver('bob@example.com', message(`m${i}`));
  const c = await s.raw({ login: 'bob@example.com' });
  await c.cmd('SELECT INBOX');
  let r = await c.cmd('STORE 1:2 +FLAGS (\\Seen \\Flagged $Label1)');
  assert.match(r.raw, /\* 1 FETCH \(FLAGS \(\\Seen \\Flagged \$Label1 \\Recent\)\)/);
  assert.match(r.raw, /\* 2 FETCH \(FLAGS \(\\Seen \\Flagged \$Label1 \\Recent\)\)/);
  r = await c.cmd('STORE 2 -FLAGS.SILENT (\\Flagged $label1)');
  assert.equal(r.lines.length, 0);
  r = await c.cmd('UID STORE 3 FLAGS (\\Answered \\Draft)');
  assert.match(r.raw, /\* 3 FETCH \(UID 3 FLAGS \(\\Answered \\Draft \\Recent\)\)/);
  r = await c.cmd('FETCH 1:3 (FLAGS)');
  assert.match(r.raw, /\* 1 FETCH \(FLAGS \(\\Seen \\Flagged \$Label1 \\Recent\)\)/);
  assert.match(r.raw, /\* 2 FETCH \(FLAGS \(\\Seen \\Recent\)\)/);
  const names = readdirSync(s.curDir('bob@example.com')).sort();
  assert.deepEqual(
    names.map((n) => n.slice(n.indexOf(':2,'))),
    [':2,FSa', ':2,S', ':2,DR'],
  );
  const rows = s.inbox('bob@example.com').rows;
  assert.deepEqual(
    rows.map((x) => [x.seen, x.flagged, x.answered, x.draft, x.keywords]),
    [
      [true, true, false, false, ['$Label1']],
      [true, false, false, false, []],
      [false, false, true, true, []],
    ],
  );
  // Read-only mailboxes refuse STORE.
  await c.cmd('EXAMINE INBOX');
  assert.match((await c.cmd('STORE 1 +FLAGS (\\Deleted)')).tagged, /NO \[READ-ONLY\]/);
});
