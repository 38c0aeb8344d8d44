/**
 * mbsync (isync) synchronizing INBOX both ways between Mailyard and a local Maildir: the initial pull, local
 * changes pushed (new message, flag change, deletion), server changes pulled (flag change by another session,
 * expunge, new delivery), and a final run with nothing to do. Both sides are checked after every run: the IMAP
 * view, the server's Maildir and the local Maildir files.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { message } from '../helpers/smtp.ts';
import { needTool } from '../helpers/tools.ts';
import { PASSWORD, run } from './clients.ts';
import { imapServer } from './setup.ts';

interface LocalMsg {
  path: string;
  subject: string;
  flags: string;
}

/** Messages of a local Maildir folder: path, Subject and the info flags (":2,<flags>", "" in new/). */
function localMessages(dir: string): LocalMsg[] {
  const out: LocalMsg[] = [];
  for (const sub of ['new', 'cur']) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      const path = join(d, f);
      const subject = /^Subject: (.*)$/m.exec(readFileSync(path, 'latin1'))?.[1]?.trim() ?? '';
      out.push({ path, subject, flags: /:2,([A-Za-z]*)$/.exec(f)?.[1] ?? '' });
    }
  }
  return out.sort((a, b) => a.subject.localeCompare(b.subject));
}

test('mbsync syncs INBOX both ways: pull, push of local changes, pull of server changes, then nothing to do', async (t) => {
  const mbsync = needTool(t, 'mbsync', 'isync');
  if (!mbsync) return;
  const s = await imapServer(t);
  const email = 'bob@example.com';
  const local = join(s.dir, 'local');
  mkdirSync(local);
  const conf = join(s.dir, 'mbsyncrc');
  writeFileSync(
    conf,
    [
      'IMAPAccount mailyard',
      'Host 127.0.0.1',
      `Port ${s.ports.imap}`,
      `User ${email}`,
      `Pass ${PASSWORD}`,
      // STARTTLS, trusting the server's self-signed certificate explicitly.
      'SSLType STARTTLS',
      `CertificateFile ${join(s.config.dataDir, 'tls', 'selfsigned.crt')}`,
      '',
      'IMAPStore remote',
      'Account mailyard',
      '',
      'MaildirStore local',
      `Path ${local}/`,
      `Inbox ${local}/INBOX`,
      '',
      'Channel inbox',
      'Far :remote:',
      'Near :local:',
      'Patterns INBOX',
      'Create Both',
      'Expunge Both',
      'Sync All',
      `SyncState ${s.dir}/mbsync-state/`,
      '',
    ].join('\n'),
  );
  mkdirSync(join(s.dir, 'mbsync-state'));
  const sync = async () => {
    const r = await run(mbsync, ['-c', conf, '-V', 'inbox'], { env: { HOME: s.dir } });
    assert.equal(r.code, 0, `mbsync failed:\n${r.stdout}\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /error|warning/i);
    return r;
  };
  const inboxDir = join(local, 'INBOX');
  const serverRows = () =>
    s
      .inbox(email)
      .rows.map((r) => ({
        subject: r.subject,
        seen: r.seen,
        flagged: r.flagged,
        deleted: r.deleted,
        answered: r.answered,
      }))
      .sort((a, b) => String(a.subject).localeCompare(String(b.subject)));
  const serverFiles = () => readdirSync(s.curDir(email)).sort();

  // 1. Initial pull of two delivered messages.
  await s.deliver(email, message('alpha'));
  await s.deliver(email, message('beta'));
  await s.spoolSettled();
  await sync();
  let loc = localMessages(inboxDir);
  assert.deepEqual(
    loc.map((m) => [m.subject, m.flags]),
    [
      ['alpha', ''],
      ['beta', ''],
    ],
  );
  // mbsync stores local copies with LF line ends and its X-TUID header; otherwise they are the server's bytes.
  const pulled = readFileSync(loc[0]!.path, 'latin1')
    .replace(/^X-TUID: .*\n/m, '')
    .replace(/\n/g, '\r\n');
  const onServer = readdirSync(s.curDir(email)).map((f) => readFileSync(join(s.curDir(email), f), 'latin1'));
  assert.ok(onServer.includes(pulled), `local copy differs:\n${pulled}`);

  // 2. Local changes: a new message, alpha flagged (and seen), beta deleted.
  const alpha = loc.find((m) => m.subject === 'alpha')!;
  const beta = loc.find((m) => m.subject === 'beta')!;
  const alphaBase = alpha.path
    .split('/')
    .pop()!
    .replace(/:2,.*$/, '');
  renameSync(alpha.path, join(inboxDir, 'cur', `${alphaBase}:2,FS`));
  unlinkSync(beta.path);
  writeFileSync(
    join(inboxDir, 'new', `${Math.floor(Date.now() / 1000)}.M1P1.localhost`),
    'From: bob@example.com\r\nTo: bob@example.com\r\nSubject: written locally\r\nMessage-ID: <local1@example.com>\r\n\r\nlocal body\r\n',
  );
  await sync();
  assert.deepEqual(serverRows(), [
    { subject: 'alpha', seen: true, flagged: true, deleted: false, answered: false },
    { subject: 'written locally', seen: false, flagged: false, deleted: false, answered: false },
  ]);
  // The server's Maildir mirrors the index: two files, alpha's with ":2,FS".
  const files = serverFiles();
  assert.equal(files.length, 2, files.join('\n'));
  assert.equal(files.filter((f) => f.endsWith(':2,FS')).length, 1);
  // And an IMAP client sees the same.
  const c = await s.raw({ login: email });
  await c.cmd('SELECT INBOX');
  const f = await c.cmd('FETCH 1:* (FLAGS)');
  assert.deepEqual(
    f.lines.filter((l) => l.includes('FETCH')).map((l) => l.replace(/ \\Recent/, '')),
    ['* 1 FETCH (FLAGS (\\Seen \\Flagged))', '* 2 FETCH (FLAGS ())'],
  );

  // 3. Server changes: alpha unflagged and answered by another session, the local message expunged, a delivery.
  await c.cmd('STORE 1 -FLAGS (\\Flagged)');
  await c.cmd('STORE 1 +FLAGS (\\Answered)');
  await c.cmd('STORE 2 +FLAGS (\\Deleted)');
  await c.cmd('EXPUNGE');
  await s.deliver(email, message('gamma'));
  await s.spoolSettled();
  await sync();
  loc = localMessages(inboxDir);
  assert.deepEqual(
    loc.map((m) => [m.subject, m.flags]),
    [
      ['alpha', 'RS'],
      ['gamma', ''],
    ],
  );
  assert.deepEqual(serverRows(), [
    { subject: 'alpha', seen: true, flagged: false, deleted: false, answered: true },
    { subject: 'gamma', seen: false, flagged: false, deleted: false, answered: false },
  ]);

  // 4. Nothing changed since: the next run succeeds and changes nothing on either side.
  const before = { loc: localMessages(inboxDir), files: serverFiles(), rows: serverRows() };
  const modseq = s.inbox(email).box.highestmodseq;
  const quiet = await sync();
  assert.deepEqual(localMessages(inboxDir), before.loc);
  assert.deepEqual(serverFiles(), before.files);
  assert.deepEqual(serverRows(), before.rows);
  assert.equal(s.inbox(email).box.highestmodseq, modseq, 'no change reached the server');
  assert.match(quiet.stdout, /^near side: 2 messages/m);
  assert.match(quiet.stdout, /^far side: 2 messages/m);
});
