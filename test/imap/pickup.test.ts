// Mail that other software puts into a Mailyard Maildir (an MDA's new/, files copied in from another server) is
// indexed when IMAP looks at the folder: STATUS, SELECT, NOOP (store/pickupQueue.ts, store/pickup.ts).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hold, release } from '../../src/store/held.ts';
import { message } from '../helpers/smtp.ts';
import { waitUntil } from '../helpers/wait.ts';
import { imapServer } from './setup.ts';

test('files another program put into new/ and cur/ are indexed with their flags; a file Mailyard is placing is not', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com');
  const root = join(s.config.storage.mail_dir, 'example.com', 'bob');
  // An MDA's delivery (bare LF line ends, no info part), the Maildir protocol: tmp/ then a rename into new/.
  const mda = 'From: mda@remote.example\nSubject: via the MDA\n\nline one\nline two\n';
  writeFileSync(join(root, 'tmp', '1700000100.M1P1.mda'), mda);
  renameSync(join(root, 'tmp', '1700000100.M1P1.mda'), join(root, 'new', '1700000100.M1P1.mda'));
  utimesSync(join(root, 'new', '1700000100.M1P1.mda'), 1_700_000_100, 1_700_000_100);
  // A message copied in from another server, read and answered, with a keyword letter of this folder.
  const migrated = 'Subject: migrated\r\nMessage-ID: <m@old.example>\r\n\r\nold mail\r\n';
  writeFileSync(join(root, 'dovecot-keywords'), '0 Work\n');
  const migratedName = `1600000000.M2P2.old,S=${migrated.length}:2,RSa`;
  writeFileSync(join(root, 'cur', migratedName), migrated);
  utimesSync(join(root, 'cur', migratedName), 1_600_000_000, 1_600_000_000);
  // A file Mailyard itself is placing (a delivery before its index commit) and a dotfile: both left alone.
  hold(['1800000000.M3P3.held,S=20']);
  t.after(() => release(['1800000000.M3P3.held,S=20']));
  writeFileSync(join(root, 'cur', '1800000000.M3P3.held,S=20:2,'), 'Subject: held\r\n\r\nx\r\n');
  writeFileSync(join(root, 'cur', '.hidden'), 'not mail');
  const usedBefore = s.app.repos.users.get('bob@example.com')!.used_bytes;

  const c = await s.raw({ login: 'bob@example.com' });
  assert.match((await c.cmd('STATUS INBOX (MESSAGES UIDNEXT)')).raw, /\* STATUS "INBOX" \(MESSAGES 3 UIDNEXT 4\)/);
  assert.deepEqual(readdirSync(join(root, 'new')), [], 'new/ was emptied into cur/');
  assert.ok(readdirSync(join(root, 'cur')).includes('1700000100.M1P1.mda:2,'));
  assert.match((await c.cmd('SELECT INBOX')).raw, /\* 3 EXISTS/);
  const f = await c.cmd('FETCH 1:* (UID FLAGS RFC822.SIZE INTERNALDATE)');
  const lines = f.lines.filter((l) => l.startsWith('* '));
  assert.equal(lines.length, 3);
  // UIDs in the order the files arrived: the migrated message (2020) before the MDA's (2023).
  assert.match(
    lines[1]!,
    new RegExp(
      `UID 2 FLAGS \\(\\\\Seen \\\\Answered Work \\\\Recent\\) RFC822\\.SIZE ${migrated.length} INTERNALDATE "13-Sep-2020`,
    ),
  );
  const crlf = mda.replaceAll('\n', '\r\n');
  assert.match(
    lines[2]!,
    new RegExp(`UID 3 FLAGS \\(\\\\Recent\\) RFC822\\.SIZE ${crlf.length} INTERNALDATE "14-Nov-2023`),
  );
  const body = await c.cmd('UID FETCH 3 BODY.PEEK[]');
  assert.ok(body.raw.includes(`BODY[] {${crlf.length}}\r\n${crlf})`), 'served with CRLF line ends');
  const search = await c.cmd('SEARCH SUBJECT migrated');
  assert.match(search.raw, /\* SEARCH 2\r?\n/);
  assert.equal(
    s.app.repos.users.get('bob@example.com')!.used_bytes,
    usedBefore + migrated.length + crlf.length,
    'counted in the usage',
  );

  // Once Mailyard lets go of the file it is picked up too, at the next NOOP (and never twice).
  release(['1800000000.M3P3.held,S=20']);
  writeFileSync(join(root, 'cur', '1800000001.M4P4.late:2,F'), 'Subject: late\r\n\r\ny\r\n');
  const noop = await c.cmd('NOOP');
  assert.match(noop.raw, /\* 5 EXISTS/);
  assert.match((await c.cmd('SELECT INBOX')).raw, /\* 5 EXISTS/);
  assert.match((await c.cmd('UID FETCH 5 FLAGS')).raw, /FLAGS \(\\Flagged/);
});

test('a message with bare LF line ends (SMTP or APPEND) is stored as sent and served as CRLF, with the served size', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('bare over smtp', 'one\ntwo\nthree\n'));
  const c = await s.raw({ login: 'bob@example.com' });
  const appended = 'Subject: bare over imap\n\nfour\nfive\n';
  const tag = c.nextTag();
  c.write(`${tag} APPEND INBOX {${appended.length}+}\r\n${appended}\r\n`);
  assert.match((await c.until(tag)).tagged, /OK \[APPENDUID \d+ 2\]/);
  await c.cmd('SELECT INBOX');
  for (const uid of [1, 2]) {
    const f = (await c.cmd(`UID FETCH ${uid} (RFC822.SIZE BODY.PEEK[])`)).raw;
    const size = Number(/RFC822\.SIZE (\d+)/.exec(f)![1]);
    const literal = /BODY\[\] \{(\d+)\}\r\n/.exec(f)!;
    assert.equal(Number(literal[1]), size, `UID ${uid}: RFC822.SIZE is the length served`);
    const served = f.slice(literal.index + literal[0].length, literal.index + literal[0].length + size);
    assert.ok(!/[^\r]\n/.test(served), `UID ${uid} served with CRLF only`);
  }
  const cur = join(s.config.storage.mail_dir, 'example.com', 'bob', 'cur');
  const stored = readdirSync(cur).map((n) => readFileSync(join(cur, n), 'latin1'));
  assert.ok(
    stored.some((x) => x.includes('\r\none\ntwo\nthree\n')),
    'the SMTP message is stored as sent',
  );
  assert.ok(stored.includes(appended), 'the APPENDed message is stored as sent');
});

test('a big migrated folder is indexed in chunks: other sessions are answered meanwhile, and a concurrent pickup indexes nothing twice', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com');
  const root = join(s.config.storage.mail_dir, 'example.com', 'bob');
  const N = 3000; // six chunks of 500
  for (let i = 0; i < N; i++) {
    const name = join(root, 'cur', `${1_600_000_000 + i}.M${i}P1.old:2,S`);
    writeFileSync(name, `Subject: old ${i}\r\nMessage-ID: <${i}@old.example>\r\n\r\n${'x'.repeat(2000)}\r\n`);
    utimesSync(name, 1_600_000_000 + i, 1_600_000_000 + i);
  }
  const a = await s.raw({ login: 'bob@example.com' });
  const b = await s.raw({ login: 'bob@example.com' });
  const other = await s.raw({ login: 'bob@example.com' });
  const order: string[] = [];
  const selectTag = a.nextTag();
  a.write(`${selectTag} SELECT INBOX\r\n`);
  const selected = a.until(selectTag, 60_000).then((r) => {
    order.push('select');
    return r;
  });
  // The pickup is under way once its first chunk is in the index.
  await waitUntil(() => s.inbox('bob@example.com').rows.length > 0, 'the first indexed chunk', { intervalMs: 5 });
  // Another session's command on another folder is answered while the pickup is still going.
  const noop = other.cmd('STATUS Sent (MESSAGES)').then((r) => {
    order.push('other');
    return r;
  });
  // A second session asking about the same folder waits for the running pickup and sees all of it.
  const status = b.cmd('STATUS INBOX (MESSAGES UIDNEXT)', 60_000);
  assert.match((await noop).raw, /\* STATUS "Sent" \(MESSAGES 0\)/);
  assert.match((await selected).raw, new RegExp(`\\* ${N + 1} EXISTS`));
  assert.match((await status).raw, new RegExp(`MESSAGES ${N + 1} UIDNEXT ${N + 2}\\)`));
  assert.deepEqual(order, ['other', 'select'], 'the other session did not wait for the whole pickup');

  const box = s.app.repos.mailboxes.get(s.app.repos.users.get('bob@example.com')!.id, 'INBOX')!;
  assert.equal(s.app.repos.messages.maildirNames(box.id).size, N + 1, 'every file indexed once');
  // UIDs follow the files' arrival: the oldest migrated file right after the delivered message, the newest last.
  const f = await a.cmd(`FETCH 2,${N + 1} (UID FLAGS BODY.PEEK[HEADER.FIELDS (SUBJECT)])`);
  assert.match(
    f.raw,
    /UID 2 FLAGS \(\\Seen( \\Recent)?\) BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: old 0\r\n/,
  );
  assert.match(f.raw, new RegExp(`Subject: old ${N - 1}\\r\\n`));
});
