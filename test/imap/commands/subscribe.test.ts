/**
 * SUBSCRIBE/UNSUBSCRIBE (src/imap/commands/subscribe.ts) with LSUB and LIST (SUBSCRIBED) / RETURN (SUBSCRIBED).
 * (Moved from test/imap/mailboxes.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imapServer } from '../setup.ts';
import { listed } from '../shared.ts';

test('SUBSCRIBE, UNSUBSCRIBE and LSUB; LIST (SUBSCRIBED) and RETURN (SUBSCRIBED)', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  await c.cmd('CREATE Lists/rust');
  await c.cmd('UNSUBSCRIBE Lists/rust');
  await c.cmd('UNSUBSCRIBE Lists');
  await c.cmd('UNSUBSCRIBE Junk');
  assert.equal((await c.cmd('UNSUBSCRIBE Nope')).tagged, 'A6 OK UNSUBSCRIBE completed');
  assert.equal((await c.cmd('SUBSCRIBE Nope')).tagged, 'A7 NO [NONEXISTENT] Mailbox Nope does not exist');
  const lsub = listed((await c.cmd('LSUB "" *')).lines, 'LSUB').map(([n]) => n);
  assert.deepEqual(lsub, ['INBOX', 'Archive', 'Drafts', 'Sent', 'Trash']);
  await c.cmd('SUBSCRIBE Lists/rust');
  assert.deepEqual(listed((await c.cmd('LSUB "" Lists/*')).lines, 'LSUB'), [['Lists/rust', '\\HasNoChildren']]);
  // LSUB with % shows an unsubscribed parent of a subscribed child as \Noselect (RFC 3501 6.3.9).
  const pct = listed((await c.cmd('LSUB "" L%')).lines, 'LSUB');
  assert.deepEqual(pct, [['Lists', '\\Noselect']]);
  const sub = listed((await c.cmd('LIST (SUBSCRIBED) "" *')).lines);
  assert.ok(sub.every(([, a]) => a.includes('\\Subscribed')));
  assert.deepEqual(
    sub.map(([n]) => n),
    ['INBOX', 'Archive', 'Drafts', 'Lists/rust', 'Sent', 'Trash'],
  );
  const ret = listed((await c.cmd('LIST "" % RETURN (SUBSCRIBED)')).lines);
  assert.deepEqual(
    ret.filter(([, a]) => !a.includes('\\Subscribed')).map(([n]) => n),
    ['Junk', 'Lists'],
  );
});
