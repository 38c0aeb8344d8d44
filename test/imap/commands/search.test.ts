/**
 * SEARCH and UID SEARCH (src/imap/commands/search.ts) over flags, headers and bodies; ESEARCH; imapflow search.
 * (Moved from test/imap/messages.test.ts.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { message } from '../../helpers/smtp.ts';
import { connectedFlow as flowFor } from '../clients.ts';
import { imapServer } from '../setup.ts';

test('SEARCH and UID SEARCH over flags, headers and bodies; ESEARCH; imapflow search', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('Quarterly report', 'Numbers attached.\r\n'));
  await s.deliver('bob@example.com', message('Lunch?', 'Pizza at noon.\r\n'));
  await s.deliver('bob@example.com', message('Re: Quarterly report', 'Looks good.\r\n'));
  const c = await s.raw({ login: 'bob@example.com' });
  await c.cmd('SELECT INBOX');
  await c.cmd('STORE 2 +FLAGS (\\Seen)');
  assert.match((await c.cmd('SEARCH SUBJECT quarterly')).raw, /\* SEARCH 1 3\r\n/);
  assert.match((await c.cmd('SEARCH BODY pizza')).raw, /\* SEARCH 2\r\n/);
  assert.match((await c.cmd('SEARCH UNSEEN NOT SUBJECT re:')).raw, /\* SEARCH 1\r\n/);
  assert.match((await c.cmd('SEARCH OR SEEN TEXT "looks good"')).raw, /\* SEARCH 2 3\r\n/);
  assert.match((await c.cmd('UID SEARCH 2:*')).raw, /\* SEARCH 2 3\r\n/);
  assert.match((await c.cmd('SEARCH CHARSET UTF-8 SUBJECT "nothing like this"')).raw, /\* SEARCH\r\n/);
  const e = await c.cmd('UID SEARCH RETURN (MIN MAX COUNT ALL) SUBJECT quarterly');
  assert.match(e.raw, /\* ESEARCH \(TAG "A\d+"\) UID MIN 1 MAX 3 ALL 1,3 COUNT 2\r\n/);
  const flow = await flowFor(t, s.ports.imap);
  await flow.mailboxOpen('INBOX');
  assert.deepEqual(await flow.search({ seen: false }, { uid: true }), [1, 3]);
  assert.deepEqual(await flow.search({ subject: 'lunch' }), [2]);
});
