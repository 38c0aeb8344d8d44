/**
 * LIST (src/imap/commands/list.ts): patterns, reference, INBOX case, the delimiter, LIST-EXTENDED.
 * (Moved from test/imap/mailboxes.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { message } from '../../helpers/smtp.ts';
import { imapServer } from '../setup.ts';
import { listed } from '../shared.ts';

test('LIST patterns: * and %, reference, INBOX case-insensitive, LIST "" "" delimiter, LIST-EXTENDED selection and RETURN options', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('one'));
  await s.deliver('bob@example.com', message('two'));
  const c = await s.raw({ login: 'bob@example.com' });
  for (const n of ['Work/a', 'Work/b/c', 'Workshop', 'INBOX/Sub']) await c.cmd(`CREATE ${n}`);
  const names = async (cmd: string) => listed((await c.cmd(cmd)).lines).map(([n]) => n);
  assert.deepEqual(await names('LIST "" Work%'), ['Work', 'Workshop']);
  assert.deepEqual(await names('LIST "" Work*'), ['Work', 'Work/a', 'Work/b', 'Work/b/c', 'Workshop']);
  assert.deepEqual(await names('LIST "" Work/%'), ['Work/a', 'Work/b']);
  assert.deepEqual(await names('LIST Work/ %'), ['Work/a', 'Work/b']);
  assert.deepEqual(await names('LIST Work/ *'), ['Work/a', 'Work/b', 'Work/b/c']);
  assert.deepEqual(await names('LIST "" %/%'), ['INBOX/Sub', 'Work/a', 'Work/b']);
  assert.deepEqual(await names('LIST "" inbox'), ['INBOX']);
  assert.deepEqual(await names('LIST "" InBoX/%'), ['INBOX/Sub']);
  assert.deepEqual(await names('LIST "" nothing*'), []);
  assert.deepEqual((await c.cmd('LIST "" ""')).lines, ['* LIST (\\Noselect) "/" ""']);
  assert.deepEqual((await c.cmd('LIST Work/ ""')).lines, ['* LIST (\\Noselect) "/" ""']);
  // Several patterns at once (LIST-EXTENDED).
  assert.deepEqual(await names('LIST "" (Sent Trash)'), ['Sent', 'Trash']);
  assert.deepEqual(listed((await c.cmd('LIST (SPECIAL-USE) "" *')).lines), [
    ['Archive', '\\HasNoChildren \\Archive'],
    ['Drafts', '\\HasNoChildren \\Drafts'],
    ['Junk', '\\HasNoChildren \\Junk'],
    ['Sent', '\\HasNoChildren \\Sent'],
    ['Trash', '\\HasNoChildren \\Trash'],
  ]);
  await c.cmd('SELECT INBOX');
  await c.cmd('STORE 1 +FLAGS (\\Seen)');
  const r = await c.cmd('LIST "" % RETURN (CHILDREN SPECIAL-USE STATUS (MESSAGES UNSEEN))');
  assert.equal(r.tagged, `${r.tagged.split(' ')[0]} OK LIST completed`);
  const i = r.lines.indexOf('* LIST (\\HasChildren) "/" "INBOX"');
  assert.ok(i >= 0, r.raw);
  assert.equal(r.lines[i + 1], '* STATUS "INBOX" (MESSAGES 2 UNSEEN 1)');
  const w = r.lines.indexOf('* LIST (\\HasChildren) "/" "Work"');
  assert.equal(r.lines[w + 1], '* STATUS "Work" (MESSAGES 0 UNSEEN 0)');
  assert.ok(r.lines.includes('* LIST (\\HasNoChildren \\Sent) "/" "Sent"'));
  assert.match((await c.cmd('LIST (BOGUS) "" *')).tagged, /BAD Unknown LIST selection option BOGUS/);
  assert.match((await c.cmd('LIST "" * RETURN (BOGUS)')).tagged, /BAD Unknown LIST return option BOGUS/);
});
