/**
 * APPEND (src/imap/commands/append.ts) with real clients: flags and internal date round-trip byte for byte,
 * synchronizing and LITERAL+ literals, APPENDUID, TRYCREATE, TOOBIG before the literal is read; imapflow's
 * append() and curl -T.
 * (Moved from test/imap/append.test.ts.)
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { needTool } from '../../helpers/tools.ts';
import { flow, PASSWORD, run } from '../clients.ts';
import { imapServer } from '../setup.ts';
import { cur, folder } from '../shared.ts';

// CRLF lines, 8-bit bytes (latin1 é and a raw 0xff), a long line: must come back exactly.
const BODY = Buffer.concat([
  Buffer.from(
    'From: Bob <bob@example.com>\r\nTo: carol@example.com\r\nSubject: draft\r\nMessage-ID: <d1@example.com>\r\n' +
      'Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\nCaf',
    'latin1',
  ),
  Buffer.from([0xe9, 0x20, 0xff]),
  Buffer.from(`\r\n${'x'.repeat(900)}\r\n.\r\nend\r\n`, 'latin1'),
]);

test('APPEND with flags and an internal date: FETCH gives the same INTERNALDATE, FLAGS, RFC822.SIZE and BODY[]; the Maildir file carries the flags', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  const tag = c.nextTag();
  c.write(`${tag} APPEND Drafts (\\Seen \\Draft $Label) "05-Mar-2024 14:07:09 -0700" {${BODY.length}}\r\n`);
  assert.equal(await c.readLine(), '+ Ready for literal data');
  c.write(Buffer.concat([BODY, Buffer.from('\r\n')]));
  const r = await c.until(tag);
  const box = s.app.repos.mailboxes.get(s.app.repos.users.get('bob@example.com')!.id, 'Drafts')!;
  assert.equal(r.tagged, `${tag} OK [APPENDUID ${box.uidvalidity} 1] APPEND completed`);
  await c.cmd('SELECT Drafts');
  const f = await c.cmd('UID FETCH 1 (INTERNALDATE FLAGS RFC822.SIZE BODY.PEEK[])');
  assert.equal(f.lines.length, 1);
  assert.equal(
    f.lines[0],
    `* 1 FETCH (UID 1 INTERNALDATE "05-Mar-2024 21:07:09 +0000" FLAGS (\\Seen \\Draft $Label \\Recent) RFC822.SIZE ${BODY.length} BODY[] {${BODY.length}}\r\n${BODY.toString('latin1')})`,
  );
  const files = cur(folder(s, 'bob@example.com', 'Drafts'));
  assert.equal(files.length, 1);
  // $Label is keyword 0 of the folder: letter 'a' after the system flags (Dovecot's dovecot-keywords).
  assert.match(files[0]!, new RegExp(`,S=${BODY.length}:2,DSa$`));
  assert.equal(readFileSync(join(folder(s, 'bob@example.com', 'Drafts'), 'dovecot-keywords'), 'utf8'), '0 $Label\n');
  assert.ok(readFileSync(join(folder(s, 'bob@example.com', 'Drafts'), 'cur', files[0]!)).equals(BODY));
  // The flags in the file name follow STORE.
  await c.cmd('UID STORE 1 -FLAGS (\\Draft)');
  await c.cmd('UID STORE 1 +FLAGS (\\Flagged \\Answered)');
  assert.match(cur(folder(s, 'bob@example.com', 'Drafts'))[0]!, /:2,FRSa$/);
  assert.equal(
    (await c.cmd('UID FETCH 1 FLAGS')).lines[0],
    '* 1 FETCH (UID 1 FLAGS (\\Seen \\Answered \\Flagged $Label \\Recent))',
  );
  // Without a date the internal date is now.
  const before = Date.now();
  c.write(Buffer.concat([Buffer.from(`X1 APPEND Drafts {${BODY.length}+}\r\n`), BODY, Buffer.from('\r\n')]));
  const x1 = await c.until('X1');
  assert.match(x1.tagged, /^X1 OK \[APPENDUID \d+ 2\]/);
  // Appending to the selected mailbox announces the message before the tagged OK (RFC 3501 6.3.11).
  assert.deepEqual(x1.lines, ['* 2 EXISTS', '* 2 RECENT']);
  const f2 = await c.cmd('UID FETCH 2 INTERNALDATE');
  const d = /INTERNALDATE "([^"]+)"/.exec(f2.raw)?.[1];
  assert.ok(d, f2.raw);
  const ms = Date.parse(d.replace(/^(\d+)-(\w+)-(\d+) /, '$2 $1 $3 '));
  assert.ok(Math.abs(ms - before) < 5000, `${d} vs ${new Date(before).toISOString()}`);
  // So does COPY into the selected mailbox.
  const copy = await c.cmd('UID COPY 1 Drafts');
  assert.deepEqual(copy.lines, ['* 3 EXISTS', '* 3 RECENT']);
  assert.match(copy.tagged, /^A\d+ OK \[COPYUID \d+ 1 3\]/);
  assert.match(
    (await c.cmd('UID FETCH 3 FLAGS')).lines[0]!,
    /^\* 3 FETCH \(UID 3 FLAGS \(\\Seen \\Answered \\Flagged \$Label \\Recent\)\)$/,
  );
});

test('LITERAL+: no continuation, pipelined APPENDs; a synchronizing literal waits for "+"; bad arguments are BAD', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  const m1 = 'Subject: one\r\n\r\nfirst\r\n';
  const m2 = 'Subject: two\r\n\r\nsecond\r\n';
  c.write(`P1 APPEND INBOX {${m1.length}+}\r\n${m1}\r\nP2 APPEND INBOX (\\Flagged) {${m2.length}+}\r\n${m2}\r\n`);
  const r1 = await c.until('P1');
  const r2 = await c.until('P2');
  assert.deepEqual(r1.lines, [], 'no "+" for a non-synchronizing literal');
  assert.match(r1.tagged, /^P1 OK \[APPENDUID \d+ 1\] APPEND completed$/);
  assert.match(r2.tagged, /^P2 OK \[APPENDUID \d+ 2\] APPEND completed$/);
  // The server sends "+" only after the line announcing a synchronizing literal; nothing before it.
  c.write(`S1 APPEND INBOX {${m1.length}}\r\n`);
  assert.equal(await c.readLine(), '+ Ready for literal data');
  c.write(`${m1}\r\n`);
  assert.match((await c.until('S1')).tagged, /^S1 OK \[APPENDUID \d+ 3\]/);
  const rows = s.inbox('bob@example.com').rows;
  assert.deepEqual(
    rows.map((r) => [r.subject, r.flagged]),
    [
      ['one', false],
      ['two', true],
      ['one', false],
    ],
  );
  assert.match((await c.cmd('APPEND INBOX "not a literal"')).tagged, /^A\d+ BAD /);
  assert.match((await c.cmd('APPEND INBOX (\\Bogus) {1+}\r\nx')).tagged, /BAD Invalid system flag/);
  assert.match((await c.cmd('APPEND INBOX "31-Foo-2024 00:00:00 +0000" {1+}\r\nx')).tagged, /BAD Invalid date-time/);
  assert.equal((await c.cmd('APPEND INBOX {0+}\r\n')).tagged.split(' ')[1], 'NO');
  assert.equal(s.inbox('bob@example.com').rows.length, 3);
});

test('APPEND to a missing mailbox is NO [TRYCREATE]; nothing is stored', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  const r = await c.cmd('APPEND Nope {5+}\r\nhello');
  assert.equal(r.tagged, 'A2 NO [TRYCREATE] Mailbox Nope does not exist');
  assert.equal(s.app.repos.users.get('bob@example.com')!.used_bytes, 0);
  assert.ok(!existsSync(folder(s, 'bob@example.com', 'Nope')));
});

test('APPEND over smtp.max_message_size is NO [TOOBIG] before the literal is sent; LITERAL+ over it is discarded', async (t) => {
  const s = await imapServer(t, { smtp: { max_message_size: 2048 } });
  const c = await s.raw({ login: 'bob@example.com' });
  assert.match((await c.cmd('CAPABILITY')).lines[0]!, / APPENDLIMIT=2048( |$)/);
  const big = 'y'.repeat(3000);
  const r = await c.cmd(`APPEND INBOX {${big.length}}`);
  assert.deepEqual(r.lines, [], 'no continuation was offered');
  assert.equal(r.tagged, 'A3 NO [TOOBIG] Literal of 3000 bytes is too big (limit 2048)');
  // The session is in sync: the next command works.
  assert.equal((await c.cmd('NOOP')).tagged, 'A4 OK NOOP completed');
  const r2 = await c.cmd(`APPEND INBOX {${big.length}+}\r\n${big}`);
  assert.equal(r2.tagged, 'A5 NO [TOOBIG] Literal of 3000 bytes is too big (limit 2048)');
  assert.equal((await c.cmd('NOOP')).tagged, 'A6 OK NOOP completed');
  const ok = 'z'.repeat(2048);
  assert.match((await c.cmd(`APPEND INBOX {${ok.length}+}\r\n${ok}`)).tagged, /^A7 OK \[APPENDUID/);
  assert.equal(s.inbox('bob@example.com').rows.length, 1);
  assert.equal(cur(folder(s, 'bob@example.com', 'INBOX')).length, 1);
});

test('imapflow append(): flags, internal date and APPENDUID; the message reads back identical', async (t) => {
  const s = await imapServer(t);
  const c = flow(t, s.ports.imap, 'bob@example.com');
  await c.connect();
  const date = new Date('2023-01-02T03:04:05Z');
  const res = await c.append('Sent', BODY, ['\\Seen', '$Sent'], date);
  assert.ok(res);
  assert.equal(res.destination, 'Sent');
  assert.equal(res.uid, 1);
  const box = s.app.repos.mailboxes.get(s.app.repos.users.get('bob@example.com')!.id, 'Sent')!;
  assert.equal(String(res.uidValidity), String(box.uidvalidity));
  await c.mailboxOpen('Sent');
  const m = await c.fetchOne('1', { source: true, flags: true, internalDate: true, size: true }, { uid: true });
  assert.ok(m);
  assert.ok(m.source!.equals(BODY));
  // \Recent: this session is the first to see the message.
  assert.deepEqual([...m.flags!].sort(), ['$Sent', '\\Recent', '\\Seen']);
  assert.equal((m.internalDate as Date).toISOString(), date.toISOString());
  assert.equal(m.size, BODY.length);
  await c.logout();
});

test('curl -T uploads a file to imap://.../Drafts (APPEND); the stored message is identical', async (t) => {
  const curl = needTool(t, 'curl', 'curl');
  if (!curl) return;
  const s = await imapServer(t);
  const file = join(s.dir, 'upload.eml');
  writeFileSync(file, BODY);
  const r = await run(curl, [
    '-sS',
    '-u',
    `bob@example.com:${PASSWORD}`,
    '-T',
    file,
    `imap://127.0.0.1:${s.ports.imap}/Drafts`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const files = cur(folder(s, 'bob@example.com', 'Drafts'));
  assert.equal(files.length, 1);
  assert.ok(readFileSync(join(folder(s, 'bob@example.com', 'Drafts'), 'cur', files[0]!)).equals(BODY));
  // And curl reads it back by UID.
  const back = await run(curl, [
    '-sS',
    '-u',
    `bob@example.com:${PASSWORD}`,
    `imap://127.0.0.1:${s.ports.imap}/Drafts;UID=1`,
  ]);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(back.stdout, BODY.toString('utf8'));
  const missing = await run(curl, [
    '-sS',
    '-u',
    `bob@example.com:${PASSWORD}`,
    '-T',
    file,
    `imap://127.0.0.1:${s.ports.imap}/Nope`,
  ]);
  assert.notEqual(missing.code, 0);
});
