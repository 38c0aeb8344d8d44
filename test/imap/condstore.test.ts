// CONDSTORE and QRESYNC (RFC 7162): MODSEQ per message, HIGHESTMODSEQ, FETCH CHANGEDSINCE, STORE UNCHANGEDSINCE
// with [MODIFIED], SEARCH MODSEQ, SELECT (QRESYNC ...) with VANISHED (EARLIER), and VANISHED instead of EXPUNGE.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imapServer } from './setup.ts';

const num = (re: RegExp, s: string) => Number(re.exec(s)?.[1]);

test('CONDSTORE: modseqs grow per change; CHANGEDSINCE, UNCHANGEDSINCE, SEARCH MODSEQ, STATUS HIGHESTMODSEQ', async (t) => {
  const s = await imapServer(t);
  for (let i = 0; i < 3; i++) await s.deliver('bob@example.com');
  const c = await s.raw({ login: 'bob@example.com' });
  const sel = await c.cmd('SELECT INBOX (CONDSTORE)');
  const h0 = num(/HIGHESTMODSEQ (\d+)/, sel.raw);
  assert.ok(h0 >= 4, sel.raw);
  let r = await c.cmd('STORE 2 +FLAGS (\\Seen)');
  const m2 = num(/\* 2 FETCH \(FLAGS \([^)]*\) MODSEQ \((\d+)\)\)/, r.raw);
  assert.equal(m2, h0 + 1);
  r = await c.cmd(`FETCH 1:* (FLAGS) (CHANGEDSINCE ${h0})`);
  assert.match(r.raw, /^\* 2 FETCH \(FLAGS \(\\Seen \\Recent\) MODSEQ \(\d+\)\)\r\nA\d+ OK/);
  r = await c.cmd(`UID STORE 1:3 (UNCHANGEDSINCE ${h0}) +FLAGS (\\Flagged)`);
  assert.match(r.tagged, /OK \[MODIFIED 2\]/);
  assert.match(r.raw, /\* 1 FETCH \(UID 1 FLAGS \(\\Flagged \\Recent\) MODSEQ \(\d+\)\)/);
  assert.doesNotMatch(r.raw, /\* 2 FETCH/);
  r = await c.cmd(`SEARCH MODSEQ ${h0 + 1}`);
  assert.match(r.raw, /\* SEARCH 1 2 3 \(MODSEQ \d+\)/);
  r = await c.cmd(`SEARCH MODSEQ ${h0 + 2}`);
  assert.match(r.raw, /\* SEARCH 1 3 \(MODSEQ (\d+)\)/);
  const st = await c.cmd('STATUS INBOX (HIGHESTMODSEQ)');
  assert.equal(num(/HIGHESTMODSEQ (\d+)/, st.raw), h0 + 2);
});

test('QRESYNC: SELECT reports VANISHED (EARLIER) and changed flags; EXPUNGE becomes VANISHED', async (t) => {
  const s = await imapServer(t);
  for (let i = 0; i < 4; i++) await s.deliver('bob@example.com');
  const a = await s.raw({ login: 'bob@example.com' });
  assert.match((await a.cmd('ENABLE QRESYNC')).raw, /\* ENABLED QRESYNC CONDSTORE/);
  const sel = await a.cmd('SELECT INBOX');
  const validity = num(/UIDVALIDITY (\d+)/, sel.raw);
  const h0 = num(/HIGHESTMODSEQ (\d+)/, sel.raw);
  await a.cmd('UNSELECT');
  // Another session changes things while a is away.
  const b = await s.raw({ login: 'bob@example.com' });
  await b.cmd('SELECT INBOX');
  await b.cmd('STORE 1 +FLAGS (\\Answered)');
  await b.cmd('STORE 2,3 +FLAGS.SILENT (\\Deleted)');
  await b.cmd('EXPUNGE');
  const back = await a.cmd(`SELECT INBOX (QRESYNC (${validity} ${h0} 1:4))`);
  assert.match(back.raw, /\* VANISHED \(EARLIER\) 2:3\r\n/);
  assert.match(back.raw, /\* 1 FETCH \(UID 1 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)/);
  assert.match(back.raw, /\* 2 EXISTS/);
  // Own expunge under QRESYNC: VANISHED, not EXPUNGE.
  await a.cmd('STORE 2 +FLAGS.SILENT (\\Deleted)');
  const ex = await a.cmd('EXPUNGE');
  assert.match(ex.raw, /^\* VANISHED 4\r\nA\d+ OK/);
  // UID FETCH ... (CHANGEDSINCE n VANISHED)
  const f = await a.cmd(`UID FETCH 1:* (FLAGS) (CHANGEDSINCE ${h0} VANISHED)`);
  assert.match(f.raw, /\* VANISHED \(EARLIER\) 2:4/);
  assert.match(f.raw, /\* 1 FETCH \(UID 1 FLAGS \(\\Answered\) MODSEQ \(\d+\)\)/);
  // QRESYNC without ENABLE is BAD.
  assert.match((await b.cmd(`SELECT INBOX (QRESYNC (${validity} 1))`)).tagged, /BAD/);
});
