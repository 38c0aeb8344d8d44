/**
 * COPY and MOVE (src/imap/commands/copy.ts) with COPYUID, and in the same session EXPUNGE, UID EXPUNGE, CLOSE
 * and UNSELECT (expunge.ts); imapflow's messageMove.
 * (Moved from test/imap/messages.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { test } from 'node:test';
import { message } from '../../helpers/smtp.ts';
import { connectedFlow as flowFor } from '../clients.ts';
import { imapServer } from '../setup.ts';

test('COPY and MOVE with COPYUID; EXPUNGE and UID EXPUNGE; CLOSE expunges silently, UNSELECT does not', async (t) => {
  const s = await imapServer(t);
  for (let i = 0; i < 4; i++) await s.deliver('bob@example.com', message(`m${i}`));
  const c = await s.raw({ login: 'bob@example.com' });
  const sel = await c.cmd('SELECT INBOX');
  const validity = /UIDVALIDITY (\d+)/.exec(sel.raw)![1];
  const archive = s.app.repos.mailboxes.get(s.inbox('bob@example.com').user.id, 'Archive')!;
  let r = await c.cmd('COPY 1:2 Archive');
  assert.match(r.tagged, new RegExp(`OK \\[COPYUID ${archive.uidvalidity} 1:2 1:2\\]`));
  r = await c.cmd('UID MOVE 3 Archive');
  assert.match(r.raw, /\* OK \[COPYUID \d+ 3 3\] Moved\r\n\* 3 EXPUNGE\r\nA\d+ OK MOVE completed/);
  assert.equal(validity, String(s.inbox('bob@example.com').box.uidvalidity));
  // Archive has 3 messages: 2 copies (hard links: same bytes) and the moved one.
  const st = await c.cmd('STATUS Archive (MESSAGES UIDNEXT)');
  assert.match(st.raw, /MESSAGES 3 UIDNEXT 4/);
  const userDir = s.curDir('bob@example.com').replace(/\/cur$/, '');
  assert.equal(readdirSync(`${userDir}/.Archive/cur`).length, 3);
  assert.equal(readdirSync(`${userDir}/cur`).length, 3);
  // EXPUNGE removes only \Deleted; UID EXPUNGE only those in its set.
  await c.cmd('STORE 1:2 +FLAGS.SILENT (\\Deleted)');
  r = await c.cmd('UID EXPUNGE 2');
  assert.match(r.raw, /^\* 2 EXPUNGE\r\nA\d+ OK/);
  r = await c.cmd('EXPUNGE');
  assert.match(r.raw, /^\* 1 EXPUNGE\r\nA\d+ OK/);
  assert.match((await c.cmd('FETCH 1 (UID)')).raw, /\* 1 FETCH \(UID 4\)/);
  assert.equal(readdirSync(`${userDir}/cur`).length, 1);
  assert.equal(s.inbox('bob@example.com').rows.length, 1);
  // used_bytes counts the 4 Archive+INBOX messages left.
  const used = s.app.repos.users.get('bob@example.com')!.used_bytes;
  const sizes = [...s.app.repos.messages.flagRows(archive.id), ...s.inbox('bob@example.com').rows].reduce(
    (n, x) => n + x.size,
    0,
  );
  assert.equal(used, sizes);
  // MOVE to a missing mailbox: TRYCREATE, nothing moved.
  assert.match((await c.cmd('MOVE 1 Nope')).tagged, /NO \[TRYCREATE\]/);
  // UNSELECT keeps \Deleted messages, CLOSE removes them without untagged EXPUNGE.
  await c.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  await c.cmd('UNSELECT');
  assert.equal(s.inbox('bob@example.com').rows.length, 1);
  await c.cmd('SELECT INBOX');
  r = await c.cmd('CLOSE');
  assert.doesNotMatch(r.raw, /EXPUNGE/);
  assert.equal(s.inbox('bob@example.com').rows.length, 0);
  assert.equal(existsSync(`${userDir}/cur`) && readdirSync(`${userDir}/cur`).length, 0);
});

test('imapflow: messageMove to Trash and messageFlagsAdd round trip', async (t) => {
  const s = await imapServer(t);
  for (let i = 0; i < 2; i++) await s.deliver('bob@example.com', message(`m${i}`));
  const flow = await flowFor(t, s.ports.imap);
  await flow.mailboxOpen('INBOX');
  await flow.messageFlagsAdd('1', ['\\Flagged']);
  const moved = await flow.messageMove('1', 'Trash');
  assert.ok(moved);
  assert.deepEqual([...(moved as { uidMap: Map<number, number> }).uidMap], [[1, 1]]);
  const status = await flow.status('Trash', { messages: true });
  assert.equal((status as { messages?: number }).messages, 1);
  const lock = await flow.getMailboxLock('Trash');
  try {
    const m = await flow.fetchOne('1', { flags: true, uid: true });
    assert.ok(m && m.flags instanceof Set && m.flags.has('\\Flagged'));
  } finally {
    lock.release();
  }
});
