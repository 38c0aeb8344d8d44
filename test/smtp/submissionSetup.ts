// A server for authenticated submission tests: example.com (alice, bob; alias team -> alice + a remote partner;
// alias other -> bob only) and other.example (dave); log lines captured; the rate-limit clock under the test's
// control; raw clients that do STARTTLS (587) or implicit TLS (465) and AUTH PLAIN.
import { existsSync, readFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import tls from 'node:tls';
import { capturedLog } from '../helpers/logLines.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';
import { ehlo, RawSmtp } from '../helpers/smtp.ts';

export const PASSWORD = TEST_PASSWORD;

export const plain = (user: string, pass = PASSWORD) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

export async function submissionServer(t: TestContext, over: Record<string, unknown> = {}) {
  const clock = { now: Date.UTC(2026, 11, 2, 12) };
  const { log, lines } = capturedLog();
  const s = await startTestServer(t, over, { now: () => clock.now, log: log });
  const { domains, accounts } = s.app.services;
  await domains.create('test', 'example.com', true);
  await domains.create('test', 'other.example', true);
  for (const u of ['alice@example.com', 'bob@example.com', 'dave@other.example'])
    await accounts.createUser('test', u, PASSWORD);
  accounts.createAlias('test', 'team@example.com', ['alice@example.com', 'partner@remote.example']);
  accounts.createAlias('test', 'other@example.com', ['bob@example.com']);

  const clients: RawSmtp[] = [];
  t.after(() => {
    for (const c of clients) c.close();
  });
  /** A session on 587 after EHLO, STARTTLS and EHLO again (not authenticated). */
  const starttls = async () => {
    const c = await ehlo(s.ports.submission);
    clients.push(c);
    await c.starttls();
    const r = await c.cmd('EHLO client.example');
    if (r.code !== 250) throw new Error(`EHLO after STARTTLS: ${r.text}`);
    return c;
  };
  /** A session on 465 (implicit TLS) after EHLO (not authenticated). */
  const implicit = async () => {
    const socket = tls.connect({ port: s.ports.smtps, host: '127.0.0.1', rejectUnauthorized: false });
    const c = new RawSmtp(socket);
    clients.push(c);
    const greeting = await c.reply();
    if (greeting.code !== 220) throw new Error(`greeting ${greeting.text}`);
    await c.cmd('EHLO client.example');
    return c;
  };
  /** A session on 587 authenticated as `user`. */
  const session = async (user = 'alice@example.com', pass = PASSWORD) => {
    const c = await starttls();
    const r = await c.cmd(`AUTH PLAIN ${plain(user, pass)}`);
    if (r.code !== 235) throw new Error(`AUTH: ${r.lines.join(' | ')}`);
    return c;
  };
  const logged = (msg: string) => lines.filter((l) => l.msg === msg);
  const folder = (email: string, name = 'INBOX') => {
    const { users, mailboxes, messages } = s.app.repos;
    const u = users.get(email)!;
    const box = mailboxes.get(u.id, name)!;
    return { user: u, box, rows: messages.rows(box.id, messages.uids(box.id)) };
  };
  /** The stored messages of a user's folder, as text. */
  const texts = async (email: string, name = 'INBOX') => {
    const { user, rows } = folder(email, name);
    return Promise.all(rows.map(async (r) => (await s.app.mail.read(user, name, r)).toString('utf8')));
  };
  const queue = () => s.app.repos.queue.list({ limit: 1000 });
  /** A queue row's spool file, as text ('' if it is missing). */
  const spoolText = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8') : '');
  return { ...s, clock, lines, logged, starttls, implicit, session, folder, texts, queue, spoolText };
}

/** A message from `from` with the given extra header lines (none: From, To, Subject, Date, Message-ID). */
export const mail = (opts: { from?: string; subject?: string; headers?: string; date?: boolean; id?: boolean }) => {
  const lines = [
    ...(opts.from === undefined ? ['From: Alice <alice@example.com>'] : opts.from ? [`From: ${opts.from}`] : []),
    'To: someone@remote.example',
    `Subject: ${opts.subject ?? 'submission test'}`,
    ...(opts.date === false ? [] : ['Date: Wed, 02 Dec 2026 12:00:00 +0000']),
    ...(opts.id === false ? [] : [`Message-ID: <${Math.random().toString(36).slice(2)}@example.com>`]),
  ];
  return `${lines.join('\r\n')}\r\n${opts.headers ?? ''}\r\nHello from submission.\r\n`;
};
