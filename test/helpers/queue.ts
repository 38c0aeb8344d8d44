// Outbound queue rows for API tests: two messages with real spool files under <mail_dir>/.queue (Q1 to three
// recipients, Q2 to one), as forwarded copies leave them; statuses set straight in the table, as the worker would.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../../src/db/client.ts';
import type { Repos } from '../../src/repos/index.ts';

export function seedQueue(repos: Repos, mailDir: string) {
  const dir = join(mailDir, '.queue');
  mkdirSync(dir, { recursive: true });
  const spool1 = join(dir, 'spool-1');
  const spool2 = join(dir, 'spool-2');
  writeFileSync(spool1, 'Subject: one\r\n\r\nbody\r\n');
  writeFileSync(spool2, 'Subject: two\r\n\r\nbody\r\n');
  const row = (queue_id: string, spool_file: string, recipient: string) => ({
    queue_id,
    spool_file,
    sender: 'alice@example.com',
    recipient,
    recipient_domain: recipient.split('@')[1]!,
    size: 24,
    dsn_notify: 'FAILURE',
    dsn_ret: 'HDRS',
    dsn_envid: `env-${queue_id}`,
  });
  const rows = repos.queue.enqueue([
    row('Q1', spool1, 'bob@remote.example'),
    row('Q1', spool1, 'carol@remote.example'),
    row('Q1', spool1, 'dave@other.example'),
    row('Q2', spool2, 'erin@remote.example'),
  ]);
  return { rows, spool1, spool2 };
}

export function setQueueStatus(db: Db, id: number, status: string, set: Record<string, unknown> = {}) {
  const cols = Object.keys(set);
  db.$client
    .prepare(`update outbound_queue set status = ?${cols.map((c) => `, ${c} = ?`).join('')} where id = ?`)
    .run(status, ...Object.values(set), id);
}
