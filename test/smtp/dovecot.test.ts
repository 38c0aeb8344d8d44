/**
 * Maildir compatibility: a real Dovecot (dovecot-imapd) configured on Mailyard's mail_dir lists and fetches the
 * messages Mailyard delivered, byte for byte. Dovecot refuses to serve mail as root, so the test gives the
 * user's Maildir to a dedicated uid (as a production setup running both as one mail user would).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, chownSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { dovecotMissing, writeDovecotConf } from '../helpers/dovecot.ts';
import { RawImap } from '../helpers/imap.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { freePort } from '../helpers/ports.ts';
import { ehlo, message } from '../helpers/smtp.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { MAIL_UID, unavailable, which } from '../helpers/tools.ts';
import { mailServer } from './setup.ts';

const UID = MAIL_UID;

function chownTree(dir: string) {
  chownSync(dir, UID, UID);
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) chownTree(p);
    else chownSync(p, UID, UID);
  }
}

test('Dovecot configured on the Mailyard mail_dir lists and fetches the delivered messages', async (t) => {
  const missing = dovecotMissing();
  if (missing) return unavailable(t, missing);
  const dovecot = which('dovecot')!;
  const { ports, config } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const multipart = message(
    'multipart',
    '--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nplain part\r\n--b1\r\nContent-Type: text/html\r\n\r\n<p>html</p>\r\n--b1--\r\n',
    'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b1"\r\n',
  );
  for (const m of [message('first'), message('Grüße second'), multipart])
    assert.equal((await c.send('alice@remote.example', ['bob@example.com'], m)).data?.code, 250);
  // Flags, keywords and a folder made through Mailyard's IMAP must be what Dovecot sees on the same Maildir.
  const m = await RawImap.connect(ports.imap);
  t.after(() => m.close());
  await m.login('bob@example.com', TEST_PASSWORD);
  await m.cmd('SELECT INBOX');
  assert.match((await m.cmd('STORE 1 +FLAGS (\\Seen $Label1 Project-X)')).tagged, /OK/);
  assert.match((await m.cmd('STORE 2 +FLAGS (\\Flagged)')).tagged, /OK/);
  assert.match((await m.cmd('CREATE Projects/2026')).tagged, /OK/);
  assert.match((await m.cmd('COPY 3 Projects/2026')).tagged, /OK \[COPYUID/);
  await m.cmd('LOGOUT');
  const userRoot = join(config.storage.mail_dir, 'example.com', 'bob');
  assert.equal(readFileSync(join(userRoot, 'dovecot-keywords'), 'utf8'), '0 $Label1\n1 Project-X\n');
  assert.ok(readdirSync(join(userRoot, 'cur')).some((f) => f.endsWith(':2,Sab')));
  chownTree(join(config.storage.mail_dir, 'example.com'));

  const dir = tmpDir(t);
  // Dovecot's auth and mail processes run unprivileged: they need to traverse these (0700) folders.
  for (let p = config.storage.mail_dir; p.startsWith(tmpdir()) && p !== tmpdir(); p = dirname(p)) chmodSync(p, 0o711);
  chmodSync(dir, 0o711);
  const imapPort = await freePort();
  const conf = writeDovecotConf(dir, {
    port: imapPort,
    mailLocation: `maildir:${config.storage.mail_dir}/%d/%n`,
    login: 'bob@example.com',
    home: userRoot,
  });
  const proc: ChildProcess = spawn(dovecot, ['-F', '-c', conf], { stdio: 'ignore' });
  t.after(() => {
    proc.kill('SIGTERM');
  });
  let client: ImapFlow;
  for (let i = 0; ; i++) {
    try {
      client = new ImapFlow({
        host: '127.0.0.1',
        port: imapPort,
        secure: false,
        auth: { user: 'bob@example.com', pass: 'secret' },
        logger: false,
      });
      await client.connect();
      break;
    } catch (e) {
      if (i > 50)
        throw new Error(
          `Dovecot did not come up: ${(e as Error).message} ${JSON.stringify((e as { responseText?: string }).responseText ?? '')}\n${readFileSafe(join(dir, 'dovecot.log'))}`,
        );
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  t.after(() => client.logout().catch(() => {}));
  const box = await client.mailboxOpen('INBOX');
  assert.equal(box.exists, 3);
  const subjects: string[] = [];
  const files = readdirSync(join(userRoot, 'cur')).sort();
  for await (const m of client.fetch('1:*', { envelope: true, source: true, bodyStructure: true })) {
    subjects.push(m.envelope!.subject!);
    const onDisk = files.map((f) => readFileSync(join(userRoot, 'cur', f))).find((b) => b.equals(m.source!));
    assert.ok(onDisk, `Dovecot served message ${m.seq} byte-identical to the file Mailyard wrote`);
    if (m.envelope!.subject === 'multipart') assert.equal(m.bodyStructure!.type, 'multipart/alternative');
  }
  assert.deepEqual(subjects, ['first', 'Grüße second', 'multipart']);
  const flags: string[][] = [];
  for await (const x of client.fetch('1:*', { flags: true }))
    flags.push([...(x.flags ?? [])].filter((f) => f !== '\\Recent').sort());
  assert.deepEqual(flags, [['$Label1', 'Project-X', '\\Seen'], ['\\Flagged'], []]);
  const list = await client.list();
  assert.ok(list.some((l) => l.path === 'INBOX'));
  // Dovecot's Maildir++ layout uses '.' where Mailyard's IMAP uses '/'.
  const projects = list.find((l) => l.path === 'Projects.2026' || l.path === 'Projects/2026');
  assert.ok(projects, JSON.stringify(list.map((l) => l.path)));
  const st = await client.status(projects.path, { messages: true });
  assert.equal((st as { messages?: number }).messages, 1);

  // The other way: a message Dovecot stores (APPEND with a flag and a keyword; its own file name, bare LF line
  // ends) appears in Mailyard's INBOX after the ones Mailyard had, with those flags, served as the CRLF message
  // that was appended, with that size.
  const raw = Buffer.from(message('saved by Dovecot', 'from the other side\r\n'));
  await client.append('INBOX', raw, ['\\Flagged', 'Project-X']);
  const written = readdirSync(join(userRoot, 'cur')).filter((f) => !files.includes(f));
  assert.equal(written.length, 1, `Dovecot wrote one file: ${written}`);
  assert.ok(!readFileSync(join(userRoot, 'cur', written[0]!)).includes('\r\n'), 'Dovecot stores bare LFs');
  const m2 = await RawImap.connect(ports.imap);
  t.after(() => m2.close());
  await m2.login('bob@example.com', TEST_PASSWORD);
  assert.match((await m2.cmd('SELECT INBOX')).raw, /\* 4 EXISTS/);
  const f = await m2.cmd('FETCH 4 (UID FLAGS RFC822.SIZE BODY.PEEK[])');
  const text = f.raw;
  assert.match(text, /UID 4 /);
  assert.match(text, /FLAGS \(\\Flagged Project-X \\Recent\)/);
  assert.match(text, new RegExp(`RFC822\\.SIZE ${raw.length}`));
  assert.ok(f.raw.includes(`{${raw.length}}\r\n${raw.toString()})`), 'Mailyard serves the message as appended');
});

function readFileSafe(p: string) {
  try {
    return readFileSync(p, 'utf8');
  } catch {
    return '';
  }
}
