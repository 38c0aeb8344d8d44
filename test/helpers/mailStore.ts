// A mail store on a throwaway database file and mail_dir, with users to deliver to.
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { pino } from 'pino';
import { createMailStore, type MailUser, type StoreTarget } from '../../src/store/mailStore.ts';
import { testDb } from './db.ts';
import { tmpDir } from './tmp.ts';

export function mailStoreFor(t: TestContext) {
  const { repos, bus } = testDb(t);
  const mailDir = tmpDir(t);
  const mail = createMailStore({ mailDir, repos, log: pino({ level: 'silent' }) });
  t.after(() => mail.close());
  repos.domains.create('example.com', { useTemplate: true });
  const user = (local: string): MailUser => {
    const u = repos.users.create({ email: `${local}@example.com`, passwordHash: 'x' });
    return { id: u.id, email: u.email };
  };
  const inboxOf = (u: MailUser): StoreTarget => ({
    userId: u.id,
    email: u.email,
    mailboxId: repos.mailboxes.get(u.id, 'INBOX')!.id,
    mailboxName: 'INBOX',
  });
  /** Spools `message` (after a Received line) into `u`'s INBOX tmp/, as SMTP does. */
  const spool = (
    u: MailUser | null,
    message: Buffer | string,
    prefix = 'Received: from client by mx.example.com\r\n',
  ) =>
    mail.spool(
      Buffer.from(prefix),
      Readable.from([Buffer.from(message)]),
      1 << 30,
      u ? { email: u.email, mailboxName: 'INBOX' } : undefined,
    );
  return { repos, bus, mailDir, mail, user, inboxOf, spool };
}
