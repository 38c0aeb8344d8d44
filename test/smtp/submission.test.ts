// Authenticated submission (src/smtp/submission.ts) with real clients: nodemailer (STARTTLS with AUTH PLAIN and
// LOGIN, implicit TLS), swaks, and a raw pipelined Thunderbird-like session; local recipients are read back over
// IMAP (imapflow), remote ones are queue rows with their spool file.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { dotStuff } from '../helpers/smtp.ts';
import { needTool } from '../helpers/tools.ts';
import { mail, PASSWORD, plain, submissionServer } from './submissionSetup.ts';

const run = promisify(execFile);

async function imapTexts(port: number, user: string, mailbox = 'INBOX'): Promise<string[]> {
  const flow = new ImapFlow({
    host: '127.0.0.1',
    port,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user, pass: PASSWORD },
    logger: false,
  });
  await flow.connect();
  try {
    await flow.mailboxOpen(mailbox);
    const out: string[] = [];
    for await (const m of flow.fetch('1:*', { source: true })) out.push(m.source!.toString('utf8'));
    return out;
  } finally {
    await flow.logout();
  }
}

test('nodemailer on 587 (STARTTLS, AUTH PLAIN): a local recipient gets it with an ESMTPSA Received header naming the user; read back over IMAP', async (t) => {
  const s = await submissionServer(t);
  const tr = nodemailer.createTransport({
    host: '127.0.0.1',
    port: s.ports.submission,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'alice@example.com', pass: PASSWORD, method: 'PLAIN' },
  });
  t.after(() => tr.close());
  const info = await tr.sendMail({
    from: 'Alice <alice@example.com>',
    to: 'bob@example.com',
    subject: 'plain auth',
    text: 'Hello Bob.\n',
  });
  assert.match(info.response, /^250 2\.0\.0 Ok: queued as [0-9A-Z]+$/);
  const [msg] = await imapTexts(s.ports.imaps, 'bob@example.com');
  assert.ok(msg, 'bob has the message');
  assert.match(msg, /Subject: plain auth/);
  assert.match(
    msg,
    /Received: from \S+ \(unknown \[127\.0\.0\.1\]\)\r\n\t\(using TLSv1\.[23] with cipher [^)]+\)\r\n\t\(Authenticated sender: alice@example\.com\)\r\n\tby mail\.test\.example \(Mailyard\) with ESMTPSA id [0-9A-Z]+\r\n\tfor <bob@example\.com>;/,
  );
  assert.match(msg, /\(Authenticated sender: alice@example\.com\)/);
  assert.match(msg, /with ESMTPSA id/);
  assert.equal(s.queue().length, 0, 'nothing queued for a local recipient');
  const events = s.app.repos.deliveryEvents.list({ limit: 10 });
  const received = events.find((e) => e.type === 'RECEIVED')!.details;
  assert.deepEqual(
    { submission: received?.submission, user: received?.user, tls: received?.tls },
    { submission: true, user: 'alice@example.com', tls: true },
  );
  assert.deepEqual(
    events.filter((e) => e.type === 'DELIVERED_LOCAL').map((e) => e.userEmail),
    ['bob@example.com'],
  );
});

test('nodemailer with AUTH LOGIN to a remote address: a queue row (origin submission, user, DSN columns) and its spool file hold the message', async (t) => {
  const s = await submissionServer(t);
  const tr = nodemailer.createTransport({
    host: '127.0.0.1',
    port: s.ports.submission,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'alice@example.com', pass: PASSWORD, method: 'LOGIN' },
  });
  t.after(() => tr.close());
  const info = await tr.sendMail({
    envelope: { from: 'alice@example.com', to: ['friend@remote.example'] },
    from: 'alice@example.com',
    to: 'friend@remote.example',
    subject: 'to a friend',
    text: 'Remote hello.\n',
    dsn: { id: 'env-42', return: 'headers', notify: ['failure', 'delay'], recipient: 'friend@remote.example' },
  });
  const queueId = /queued as ([0-9A-Z]+)/.exec(info.response)![1]!;
  const rows = s.queue();
  assert.equal(rows.length, 1);
  const row = rows[0]!;
  const alice = s.app.repos.users.get('alice@example.com')!;
  assert.deepEqual(
    {
      queue_id: row.queue_id,
      sender: row.sender,
      recipient: row.recipient,
      recipient_domain: row.recipient_domain,
      origin: row.origin,
      user_id: row.user_id,
      dsn_to: row.dsn_to,
      dsn_envid: row.dsn_envid,
      dsn_ret: row.dsn_ret,
      dsn_notify: row.dsn_notify,
      dsn_orcpt: row.dsn_orcpt,
      status: row.status,
    },
    {
      queue_id: queueId,
      sender: 'alice@example.com',
      recipient: 'friend@remote.example',
      recipient_domain: 'remote.example',
      origin: 'submission',
      user_id: alice.id,
      dsn_to: 'alice@example.com',
      dsn_envid: 'env-42',
      dsn_ret: 'HDRS',
      dsn_notify: 'FAILURE,DELAY',
      dsn_orcpt: 'rfc822;friend@remote.example',
      status: 'queued',
    },
  );
  const days = (row.expires_at - row.created_at) / 86_400_000;
  assert.ok(Math.abs(days - s.config.queue.max_age_days) < 0.01, `expires after max_age_days (${days})`);
  const text = s.spoolText(row.spool_file);
  assert.match(text, /Subject: to a friend/);
  assert.match(text, /Remote hello\./);
  assert.match(text, /with ESMTPSA id /);
  assert.equal(row.size, Buffer.byteLength(text));
  const queued = s.app.repos.deliveryEvents.list({ limit: 10 }).find((e) => e.type === 'QUEUED')!;
  assert.deepEqual(queued.recipients, ['friend@remote.example']);
  assert.equal(queued.details?.origin, 'submission');
});

test('nodemailer on 465 (implicit TLS) delivers to a local and a remote recipient, and a remote alias destination is queued with its ORCPT', async (t) => {
  const s = await submissionServer(t);
  const tr = nodemailer.createTransport({
    host: '127.0.0.1',
    port: s.ports.smtps,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'dave@other.example', pass: PASSWORD },
  });
  t.after(() => tr.close());
  await tr.sendMail({
    from: 'dave@other.example',
    to: ['bob@example.com', 'x@remote.example', 'team@example.com'],
    subject: 'over smtps',
    text: 'Implicit TLS.\n',
  });
  assert.deepEqual(
    s.folder('bob@example.com').rows.map((r) => r.subject),
    ['over smtps'],
  );
  assert.deepEqual(
    s.folder('alice@example.com').rows.map((r) => r.subject),
    ['over smtps'],
  );
  const rows = s.queue();
  assert.deepEqual(rows.map((r) => r.recipient).sort(), ['partner@remote.example', 'x@remote.example']);
  assert.equal(rows.find((r) => r.recipient === 'partner@remote.example')!.dsn_orcpt, 'rfc822;team@example.com');
  assert.equal(rows.find((r) => r.recipient === 'x@remote.example')!.dsn_orcpt, null);
  assert.ok(rows.every((r) => r.origin === 'submission' && r.sender === 'dave@other.example'));
  assert.equal(rows[0]!.spool_file, rows[1]!.spool_file, 'one spool file for the message');
});

test('swaks: 587 with --tls --auth PLAIN and 465 with --tlsc --auth LOGIN', async (t) => {
  const swaks = needTool(t, 'swaks', 'swaks');
  if (!swaks) return;
  const s = await submissionServer(t);
  const common = ['--server', '127.0.0.1', '--from', 'alice@example.com', '--to', 'bob@example.com'];
  const auth = ['--auth-user', 'alice@example.com', '--auth-password', PASSWORD];
  const a = await run(
    swaks,
    [
      ...common,
      '--port',
      String(s.ports.submission),
      '--tls',
      '--auth',
      'PLAIN',
      ...auth,
      '--header',
      'From: alice@example.com',
      '--header',
      'Subject: swaks 587',
    ],
    { encoding: 'utf8' },
  );
  assert.match(a.stdout, /TLS started/);
  assert.match(a.stdout, /<~ {2}235 /);
  assert.match(a.stdout, /<~ {2}250 2\.0\.0 Ok: queued as \w+/);
  const b = await run(
    swaks,
    [
      ...common,
      '--port',
      String(s.ports.smtps),
      '--tlsc',
      '--auth',
      'LOGIN',
      ...auth,
      '--header',
      'From: alice@example.com',
      '--header',
      'Subject: swaks 465',
    ],
    { encoding: 'utf8' },
  );
  assert.match(b.stdout, /<~ {2}250 2\.0\.0 Ok: queued as \w+/);
  assert.deepEqual(
    s
      .folder('bob@example.com')
      .rows.map((r) => r.subject)
      .sort(),
    ['swaks 465', 'swaks 587'],
  );
});

test('a Thunderbird-like pipelined session: after STARTTLS and AUTH, MAIL, three RCPT and DATA in one write get every reply in order', async (t) => {
  const s = await submissionServer(t);
  const c = await s.starttls();
  assert.equal((await c.cmd(`AUTH PLAIN ${plain('alice@example.com')}`)).code, 235);
  c.write(
    [
      'MAIL FROM:<alice@example.com> BODY=8BITMIME SIZE=300',
      'RCPT TO:<bob@example.com>',
      'RCPT TO:<nobody@example.com>',
      'RCPT TO:<pal@remote.example>',
      'DATA',
      '',
    ].join('\r\n'),
  );
  assert.equal((await c.reply()).code, 250, 'MAIL');
  assert.equal((await c.reply()).code, 250, 'RCPT bob');
  assert.deepEqual((await c.reply()).lines, [
    '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown',
  ]);
  assert.equal((await c.reply()).code, 250, 'RCPT remote');
  assert.equal((await c.reply()).code, 354, 'DATA');
  c.write(Buffer.concat([dotStuff(Buffer.from(mail({ subject: 'pipelined' }))), Buffer.from('.\r\n')]));
  const done = await c.reply();
  assert.match(done.lines[0]!, /^250 2\.0\.0 Ok: queued as [0-9A-Z]+$/);
  // A second transaction on the same session, pipelined again.
  c.write('MAIL FROM:<alice@example.com>\r\nRCPT TO:<bob@example.com>\r\nDATA\r\n');
  assert.equal((await c.reply()).code, 250);
  assert.equal((await c.reply()).code, 250);
  assert.equal((await c.reply()).code, 354);
  c.write(Buffer.concat([Buffer.from(mail({ subject: 'second' })), Buffer.from('.\r\n')]));
  assert.equal((await c.reply()).code, 250);
  assert.deepEqual(
    s.folder('bob@example.com').rows.map((r) => r.subject),
    ['pipelined', 'second'],
  );
  assert.deepEqual(
    s.queue().map((r) => r.recipient),
    ['pal@remote.example'],
  );
});

test('RCPT: syntactically bad and over smtp.max_recipients are refused; hosted domains resolve as for inbound mail', async (t) => {
  const s = await submissionServer(t, { smtp: { max_recipients: 2 } });
  const c = await s.session();
  assert.equal((await c.cmd('MAIL FROM:<alice@example.com>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<a@remote.example>')).code, 250);
  assert.equal((await c.cmd('RCPT TO:<nobody@other.example>')).code, 550);
  assert.match((await c.cmd('RCPT TO:<b@nodot>')).lines[0]!, /^501 5\.1\.3 /);
  assert.equal((await c.cmd('RCPT TO:<dave@other.example>')).code, 250);
  assert.deepEqual((await c.cmd('RCPT TO:<c@remote.example>')).lines, [
    '452 4.5.3 Too many recipients (at most 2 per message)',
  ]);
});
