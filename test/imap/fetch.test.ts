// FETCH (RFC 3501 6.4.5) end to end: BODY[] is the stored file byte for byte; BODY[] sets \Seen, BODY.PEEK does
// not; sections, partials and RFC822.* forms; and a Thunderbird-like client flow with imapflow: LIST with
// SPECIAL-USE and CHILDREN, STATUS on every folder, SELECT, headers then bodies, IDLE, MOVE to Trash, EXPUNGE.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { imapServer } from './setup.ts';

const MIXED = [
  'From: "Alice Example" <alice@remote.example>',
  'To: bob@example.com, "Carol" <carol@example.com>',
  'Subject: =?UTF-8?Q?R=C3=A9sum=C3=A9?= attached',
  'Date: Mon, 23 Nov 2026 10:00:00 +0100',
  'Message-ID: <mixed-1@remote.example>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  '--outer',
  'Content-Type: multipart/alternative; boundary="inner"',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  '',
  'Plain body.',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>HTML body.</p>',
  '--inner--',
  '--outer',
  'Content-Type: application/pdf; name="cv.pdf"',
  'Content-Disposition: attachment; filename="cv.pdf"',
  'Content-Transfer-Encoding: base64',
  '',
  'JVBERi0xLjQK',
  '--outer--',
  '',
].join('\r\n');

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

test('a Thunderbird-like session with imapflow', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', MIXED);
  const flow = new ImapFlow({
    host: '127.0.0.1',
    port: s.ports.imaps,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'bob@example.com', pass: 'password123' },
    logger: false,
  });
  await flow.connect();
  t.after(() => flow.close());
  await flow.mailboxCreate('Archive/2026');
  const list = await flow.list();
  const byPath = new Map(list.map((m) => [m.path, m]));
  assert.equal(byPath.get('Sent')?.specialUse, '\\Sent');
  assert.equal(byPath.get('Trash')?.specialUse, '\\Trash');
  assert.ok(byPath.get('Archive')?.flags.has('\\HasChildren'));
  assert.ok(byPath.get('Archive/2026')?.flags.has('\\HasNoChildren'));
  for (const m of list) {
    const st = await flow.status(m.path, { messages: true, unseen: true, uidNext: true });
    assert.equal((st as { messages?: number }).messages, m.path === 'INBOX' ? 1 : 0, m.path);
  }
  const lock = await flow.getMailboxLock('INBOX');
  try {
    const headers = [];
    for await (const m of flow.fetch('1:*', {
      uid: true,
      flags: true,
      envelope: true,
      bodyStructure: true,
      size: true,
    }))
      headers.push(m);
    assert.equal(headers.length, 1);
    assert.equal(headers[0]!.envelope?.subject, 'Résumé attached');
    assert.equal(headers[0]!.envelope?.from?.[0]?.address, 'alice@remote.example');
    assert.equal(headers[0]!.bodyStructure?.childNodes?.[1]?.dispositionParameters?.filename, 'cv.pdf');
    const part = await flow.download('1', '1.1');
    const chunks: Buffer[] = [];
    assert.ok(part.content);
    for await (const ch of part.content) chunks.push(ch as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), 'Plain body.');
    // IDLE gets a new message within 1 s.
    const exists = new Promise<number>((resolve) => flow.on('exists', (e: { count: number }) => resolve(e.count)));
    const idling = flow.idle();
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    await s.deliver('bob@example.com');
    assert.equal(await exists, 2);
    assert.ok(Date.now() - t0 < 1000);
    await flow.messageMove('1', 'Trash');
    await idling.catch(() => {});
    await flow.messageFlagsAdd('1', ['\\Deleted']);
    await flow.messageDelete('1');
    assert.equal((flow.mailbox as { exists: number }).exists, 0);
  } finally {
    lock.release();
  }
  const trash = await flow.status('Trash', { messages: true });
  assert.equal((trash as { messages?: number }).messages, 1);
});
