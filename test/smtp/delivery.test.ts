import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import nodemailer from 'nodemailer';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { ehlo, message, RawSmtp } from '../helpers/smtp.ts';
import { unavailable } from '../helpers/tools.ts';
import { mailServer } from './setup.ts';

test('EHLO on the MX advertises PIPELINING, 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES, SIZE and STARTTLS, and no AUTH', async (t) => {
  const { ports, config } = await mailServer(t);
  const c = await RawSmtp.connect(ports.relay);
  t.after(() => c.close());
  assert.match((await c.reply()).text, /^mail\.test\.example ESMTP/);
  const r = await c.cmd('EHLO client.example');
  const kw = r.lines.slice(1).map((l) => l.slice(4));
  for (const k of [
    'PIPELINING',
    '8BITMIME',
    'SMTPUTF8',
    'ENHANCEDSTATUSCODES',
    `SIZE ${config.smtp.max_message_size}`,
    'STARTTLS',
  ])
    assert.ok(kw.includes(k), `missing ${k} in ${kw}`);
  assert.ok(!kw.some((k) => k.startsWith('AUTH')));
  assert.ok(
    [500, 502, 503].includes((await c.cmd('AUTH PLAIN AGJvYgBwYXNzd29yZDEyMw==')).code),
    'AUTH is refused on the MX',
  );
});

test('a delivered message is the sent bytes plus the prepended trace headers; the index row matches the file', async (t) => {
  const { ports, inbox, curDir } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const body = message('Exact bytes', 'line one\r\n.leading dot\r\n\r\nlast line\r\n');
  const r = await c.send('alice@remote.example', ['bob@example.com'], body);
  assert.equal(r.data?.code, 250);
  const queueId = /queued as (\w+)/.exec(r.data!.text)![1]!;
  assert.match(r.data!.lines[0]!, /^250 2\.0\.0 Ok: queued as /);
  const files = readdirSync(curDir('bob@example.com'));
  assert.equal(files.length, 1);
  const bytes = readFileSync(join(curDir('bob@example.com'), files[0]!));
  const headerEnd = bytes.indexOf(Buffer.from('From: Alice'));
  const prefix = bytes.subarray(0, headerEnd).toString();
  assert.ok(
    bytes.subarray(headerEnd).equals(Buffer.from(body)),
    'the message after the trace headers is byte-identical to what was sent',
  );
  assert.match(
    prefix,
    /^Return-Path: <alice@remote\.example>\r\nDelivered-To: bob@example\.com\r\nReceived: from client\.example \(unknown \[127\.0\.0\.1\]\)\r\n\tby mail\.test\.example \(Mailyard\) with ESMTP id (\w+)\r\n\tfor <bob@example\.com>;\r\n\t\w{3}, \d+ \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n$/,
  );
  assert.ok(prefix.includes(queueId));
  const { rows, box, user } = inbox('bob@example.com');
  assert.equal(rows.length, 1);
  const row = rows[0]!;
  assert.equal(row.uid, 1);
  assert.equal(box.uidnext, 2);
  assert.equal(row.size, bytes.length);
  assert.equal(`${row.maildir_name}:2,`, files[0]);
  assert.match(files[0]!, new RegExp(`,S=${bytes.length}:2,$`));
  assert.deepEqual(
    [row.seen, row.answered, row.flagged, row.deleted, row.draft, row.keywords],
    [false, false, false, false, false, []],
  );
  assert.equal(row.subject, 'Exact bytes');
  assert.equal(row.from_addr, 'Alice <alice@remote.example>');
  assert.equal(row.date_header, Date.parse('2026-11-23T10:00:00Z'));
  assert.equal(user.used_bytes, bytes.length);
  assert.equal(readdirSync(join(curDir('bob@example.com'), '..', 'new')).length, 0);
});

test('a message bigger than the in-memory spool limit is streamed to disk and stored byte-exact', async (t) => {
  const { ports, inbox, curDir } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  // ~1.2 MB in lines of varied content (the store collects up to 256 KiB in memory, then streams).
  const lines = Array.from(
    { length: 16_000 },
    (_, i) => `${i.toString(36).padStart(6, '0')} ${'x'.repeat(i % 120)}\r\n`,
  );
  const body = message('Big one', lines.join(''));
  const r = await c.send('alice@remote.example', ['bob@example.com'], body);
  assert.equal(r.data?.code, 250);
  const files = readdirSync(curDir('bob@example.com'));
  assert.equal(files.length, 1);
  const bytes = readFileSync(join(curDir('bob@example.com'), files[0]!));
  const headerEnd = bytes.indexOf(Buffer.from('From: Alice'));
  assert.ok(bytes.subarray(headerEnd).equals(Buffer.from(body)), 'byte-identical after the trace headers');
  assert.equal(inbox('bob@example.com').rows[0]!.size, bytes.length);
  assert.equal(inbox('bob@example.com').rows[0]!.subject, 'Big one');
});

test('UIDs grow in delivery order; user+tag, case-insensitive local parts, aliases and catch-all deliver', async (t) => {
  const { app, ports, inbox } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  for (const to of ['bob@example.com', 'BOB@Example.COM', 'bob+lists@example.com'])
    assert.equal((await c.send('a@remote.example', [to], message(`to ${to}`))).data?.code, 250, to);
  assert.deepEqual(
    inbox('bob@example.com').rows.map((r) => [r.uid, r.subject]),
    [
      [1, 'to bob@example.com'],
      [2, 'to BOB@Example.COM'],
      [3, 'to bob+lists@example.com'],
    ],
  );
  assert.equal((await c.send('a@remote.example', ['whoever@example.com'], message('x'))).rcpt[0]!.code, 550);
  await app.services.domains.update('test', 'example.com', { catchall_email: 'carol@example.com' });
  assert.equal((await c.send('a@remote.example', ['whoever@example.com'], message('catch-all'))).data?.code, 250);
  assert.deepEqual(
    inbox('carol@example.com').rows.map((r) => r.subject),
    ['catch-all'],
  );
});

test('several recipients across domains: stored once per mailbox, hard-linked, one transaction; forwarding is queued', async (t) => {
  const { app, ports, inbox, curDir, config, spoolSettled } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const r = await c.send(
    'a@remote.example',
    ['bob@example.com', 'carol@example.com', 'dave@other.example', 'sales@example.com'],
    message('Team'),
  );
  assert.deepEqual(
    r.rcpt.map((x) => x.code),
    [250, 250, 250, 250],
  );
  assert.equal(r.data?.code, 250);
  for (const u of ['bob@example.com', 'carol@example.com', 'dave@other.example'])
    assert.deepEqual(
      inbox(u).rows.map((x) => x.subject),
      ['Team'],
      u,
    );
  const inode = (u: string) => statSync(join(curDir(u), readdirSync(curDir(u))[0]!));
  assert.equal(inode('bob@example.com').ino, inode('dave@other.example').ino, 'one file, hard-linked');
  assert.ok(inode('bob@example.com').nlink >= 3);
  const text = readFileSync(join(curDir('carol@example.com'), readdirSync(curDir('carol@example.com'))[0]!), 'utf8');
  assert.ok(!text.includes('Delivered-To'), 'no per-recipient header when the file is shared');
  assert.ok(!/\tfor </.test(text));
  const queued = app.repos.queue.list();
  // The outbound worker may already be trying it (remote.example has no DNS here: it stays pending).
  assert.deepEqual(
    queued.map((q) => [q.recipient, ['queued', 'sending', 'deferred'].includes(q.status)]),
    [['partner@remote.example', true]],
  );
  assert.ok(existsSync(queued[0]!.spool_file) && queued[0]!.spool_file.startsWith(config.storage.mail_dir));
  await spoolSettled();
  assert.equal(readdirSync(join(config.storage.mail_dir, '.spool')).length, 0, 'spool name removed');
  const types = app.repos.deliveryEvents.list().map((e) => e.type);
  assert.deepEqual(types.sort(), ['DELIVERED_LOCAL', 'DELIVERED_LOCAL', 'DELIVERED_LOCAL', 'QUEUED', 'RECEIVED']);
});

test('a mailbox on another filesystem gets a copy of the file (no hard link across filesystems), indexed like the others', async (t) => {
  // dave's Maildir on its own tmpfs: linking bob's file into it fails with EXDEV, so it gets a (synced) copy.
  const mailDir = mkdtempSync(join(tmpdir(), 'mailyard-exdev-'));
  const daveDir = join(mailDir, 'other.example', 'dave');
  mkdirSync(daveDir, { recursive: true });
  const cleanup = () => rmSync(mailDir, { recursive: true, force: true });
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', daveDir]);
  } catch (e) {
    cleanup();
    // As root (CI) a failing mount is a broken environment: fail under CI. As another user it cannot work.
    unavailable(t, `cannot mount a tmpfs here: ${(e as Error).message.split('\n')[0]}`, process.getuid?.() === 0);
    return;
  }
  const unmount = () => {
    execFileSync('umount', ['-l', daveDir]);
    cleanup();
  };
  // After-hooks run in registration order: the server's (registered by mailServer) stop it before the unmount.
  const server = await mailServer(t, { storage: { mail_dir: mailDir } }).catch((e) => {
    unmount();
    throw e;
  });
  t.after(unmount);
  const { ports, inbox, curDir } = server;
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const r = await c.send('a@remote.example', ['bob@example.com', 'dave@other.example'], message('Across'));
  assert.equal(r.data?.code, 250);
  const only = (u: string) => {
    const names = readdirSync(curDir(u));
    assert.equal(names.length, 1, u);
    return join(curDir(u), names[0]!);
  };
  const [bob, dave] = [only('bob@example.com'), only('dave@other.example')];
  assert.notEqual(statSync(bob).dev, statSync(dave).dev, 'two filesystems');
  assert.deepEqual(readFileSync(dave), readFileSync(bob), 'the copy is byte-identical');
  assert.equal(statSync(bob).nlink, 1);
  for (const u of ['bob@example.com', 'dave@other.example']) {
    const rows = inbox(u).rows;
    assert.deepEqual(
      rows.map((x) => [x.subject, x.size]),
      [['Across', statSync(bob).size]],
      u,
    );
  }
  assert.deepEqual(readdirSync(join(daveDir, 'tmp')), [], "nothing left in dave's tmp/");
});

test('nodemailer over STARTTLS (required), 8-bit body and a UTF-8 address (SMTPUTF8) with an IDN domain', async (t) => {
  const { app, ports, inbox } = await mailServer(t);
  await app.services.domains.create('test', 'bücher.example', true);
  await app.services.accounts.createUser('test', 'jörg@bücher.example', TEST_PASSWORD);
  const tr = nodemailer.createTransport({
    host: '127.0.0.1',
    port: ports.relay,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
  });
  const info = await tr.sendMail({
    envelope: { from: 'zoë@remote.example', to: ['jörg@bücher.example', 'bob@example.com'] },
    from: 'Zoë <zoë@remote.example>',
    to: 'jörg@bücher.example',
    subject: 'Grüße',
    text: 'Schöne Grüße aus Köln – 8bit\n',
    textEncoding: 'quoted-printable',
  });
  assert.match(info.response, /^250 2\.0\.0/);
  assert.deepEqual(
    inbox('jörg@xn--bcher-kva.example').rows.map((r) => r.subject),
    ['Grüße'],
  );
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  assert.equal((await c.cmd('MAIL FROM:<zoë@remote.example> SMTPUTF8 BODY=8BITMIME')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<jörg@bücher.example>')).code, 250);
  assert.equal((await c.cmd('DATA')).code, 354);
  c.write(
    'Subject: raw 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße, ünïcödé\r\n.\r\n',
  );
  assert.equal((await c.reply()).code, 250);
  const rows = inbox('jörg@xn--bcher-kva.example').rows;
  assert.equal(rows.length, 2);
  const received = app.repos.deliveryEvents.list().filter((e) => e.type === 'RECEIVED');
  assert.equal(received[0]!.details?.tls, true, 'the nodemailer session was upgraded with STARTTLS');
});

test('PIPELINING: a whole transaction in one write gets every reply, in order', async (t) => {
  const { ports, inbox } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  c.write(
    'MAIL FROM:<a@remote.example>\r\nRCPT TO:<bob@example.com>\r\nRCPT TO:<nobody@example.com>\r\nRCPT TO:<carol@example.com>\r\nDATA\r\n',
  );
  const codes = [];
  for (let i = 0; i < 5; i++) codes.push((await c.reply()).code);
  assert.deepEqual(codes, [250, 250, 550, 250, 354]);
  c.write(`${message('pipelined')}\r\n.\r\nQUIT\r\n`);
  assert.equal((await c.reply()).code, 250);
  assert.equal((await c.reply()).code, 221);
  assert.equal(inbox('bob@example.com').rows.length, 1);
  assert.equal(inbox('carol@example.com').rows.length, 1);
});
