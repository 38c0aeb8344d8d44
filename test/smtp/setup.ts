// A server with example.com (users bob, carol; alias sales -> bob + a remote partner) and other.example (dave).

import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';
import { waitUntil } from '../helpers/wait.ts';

export async function mailServer(t: { after(fn: () => unknown): void }, over: Record<string, unknown> = {}) {
  const s = await startTestServer(t, over);
  const { domains, accounts } = s.app.services;
  await domains.create('test', 'example.com', true);
  await domains.create('test', 'other.example', true);
  for (const u of ['bob@example.com', 'carol@example.com', 'dave@other.example'])
    await accounts.createUser('test', u, TEST_PASSWORD);
  accounts.createAlias('test', 'sales@example.com', ['bob@example.com', 'partner@remote.example']);
  const inbox = (email: string) => {
    const { users, mailboxes, messages } = s.app.repos;
    const u = users.get(email)!;
    const box = mailboxes.get(u.id, 'INBOX')!;
    return { user: u, box, rows: messages.rows(box.id, messages.uids(box.id)) };
  };
  const curDir = (email: string) => {
    const [local, domain] = email.split('@');
    return `${s.config.storage.mail_dir}/${domain}/${local}/cur`;
  };
  /** The spool name of an acknowledged message is removed just after the 250: wait for it (fails at a deadline). */
  const spoolSettled = async () => {
    const { readdirSync } = await import('node:fs');
    const spool = `${s.config.storage.mail_dir}/.spool`;
    await waitUntil(() => readdirSync(spool).length === 0, 'an empty spool', {
      detail: () => JSON.stringify(readdirSync(spool)),
    });
  };
  return { ...s, inbox, curDir, spoolSettled };
}
