/**
 * FETCH (src/imap/commands/fetch.ts, RFC 3501 6.4.5) end to end: BODY[] is the stored file byte for byte;
 * BODY[] sets \Seen, BODY.PEEK does not; sections, partials and RFC822.* forms.
 * (Moved from test/imap/fetch.test.ts.)
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { imapServer } from '../setup.ts';
import { MIXED } from '../shared.ts';

test('BODY[] is byte-identical to the Maildir file; \\Seen by BODY[], not by BODY.PEEK; sections and partials', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', MIXED);
  const file = readdirSync(s.curDir('bob@example.com'))[0]!;
  const stored = readFileSync(`${s.curDir('bob@example.com')}/${file}`);
  const c = await s.raw({ login: 'bob@example.com' });
  await c.cmd('SELECT INBOX');
  let r = await c.cmd('FETCH 1 (BODY.PEEK[] RFC822.SIZE)');
  assert.ok(r.raw.includes(`BODY[] {${stored.length}}\r\n${stored.toString('latin1')} RFC822.SIZE ${stored.length})`));
  assert.match((await c.cmd('FETCH 1 (FLAGS)')).raw, /FLAGS \(\\Recent\)/);
  r = await c.cmd('FETCH 1 (BODY[1.1])');
  assert.match(r.raw, /\* 1 FETCH \(BODY\[1\.1\] \{11\}\r\nPlain body\. FLAGS \(\\Seen \\Recent\)\)/);
  r = await c.cmd('FETCH 1 (BODY.PEEK[HEADER.FIELDS (Subject Message-ID)] BODY.PEEK[2.MIME] BODY.PEEK[]<0.4>)');
  assert.ok(
    r.raw.includes(
      'BODY[HEADER.FIELDS (SUBJECT MESSAGE-ID)] {88}\r\nSubject: =?UTF-8?Q?R=C3=A9sum=C3=A9?= attached\r\nMessage-ID: <mixed-1@remote.example>\r\n\r\n',
    ),
    r.raw,
  );
  assert.match(r.raw, /BODY\[2\.MIME\] \{\d+\}\r\nContent-Type: application\/pdf; name="cv\.pdf"\r\n/);
  assert.match(r.raw, /BODY\[\]<0> \{4\}\r\n/);
  r = await c.cmd('FETCH 1 (RFC822.HEADER)');
  assert.match(r.raw, /RFC822\.HEADER \{\d+\}\r\n(Return-Path|Received|Delivered-To)/);
  r = await c.cmd('FETCH 1 (ENVELOPE)');
  assert.ok(
    r.raw.includes(
      'ENVELOPE ("Mon, 23 Nov 2026 10:00:00 +0100" "=?UTF-8?Q?R=C3=A9sum=C3=A9?= attached" (("Alice Example" NIL "alice" "remote.example"))',
    ),
    r.raw,
  );
  r = await c.cmd('FETCH 1 (BODYSTRUCTURE)');
  assert.match(
    r.raw,
    /BODYSTRUCTURE \(\(\("text" "plain" \("charset" "utf-8"\) NIL NIL "7bit" 11 0 NIL NIL NIL NIL\)\("text" "html" \("charset" "utf-8"\) NIL NIL "7bit" 17 0 NIL NIL NIL NIL\) "alternative" \("boundary" "inner"\) NIL NIL NIL\)\("application" "pdf" \("name" "cv\.pdf"\) NIL NIL "base64" 12 NIL \("attachment" \("filename" "cv\.pdf"\)\) NIL NIL\) "mixed" \("boundary" "outer"\) NIL NIL NIL\)/i,
  );
  // The \Seen set by BODY[] is in the index and the file name.
  assert.equal(s.inbox('bob@example.com').rows[0]!.seen, true);
  assert.match(readdirSync(s.curDir('bob@example.com'))[0]!, /:2,S$/);
  // EXAMINE: BODY[] does not set \Seen.
  await c.cmd('STORE 1 -FLAGS (\\Seen)');
  await c.cmd('EXAMINE INBOX');
  await c.cmd('FETCH 1 (BODY[])');
  assert.equal(s.inbox('bob@example.com').rows[0]!.seen, false);
});
