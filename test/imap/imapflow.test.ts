/**
 * imapflow as a real client across commands: a Thunderbird-like session (LIST with SPECIAL-USE and CHILDREN,
 * STATUS on every folder, SELECT, headers then bodies, IDLE, MOVE to Trash, EXPUNGE; moved from
 * test/imap/fetch.test.ts) and mailbox management with list(), listTree(), status(), mailboxCreate/Rename/Delete
 * (moved from test/imap/mailboxes.test.ts).
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { message } from '../helpers/smtp.ts';
import { assertRelative } from '../helpers/wait.ts';
import { flow, idleWatch } from './clients.ts';
import { imapServer } from './setup.ts';
import { MIXED, userRoot } from './shared.ts';

test('a Thunderbird-like session with imapflow', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', MIXED);
  const watch = idleWatch();
  const flow = new ImapFlow({
    host: '127.0.0.1',
    port: s.ports.imaps,
    secure: true,
    tls: { rejectUnauthorized: false },
    auth: { user: 'bob@example.com', pass: TEST_PASSWORD },
    logger: watch.logger,
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
    // IDLE gets a new message about as soon as it is delivered (relative to the delivery's own time).
    const exists = new Promise<{ count: number; at: number }>((resolve) =>
      flow.on('exists', (e: { count: number }) => resolve({ count: e.count, at: performance.now() })),
    );
    const acknowledged = watch.idleAcknowledged();
    const idling = flow.idle();
    await acknowledged; // the server answered "+": the delivery below happens during IDLE
    const t0 = performance.now();
    await s.deliver('bob@example.com');
    const delivered = performance.now() - t0;
    const ev = await exists;
    assert.equal(ev.count, 2);
    assertRelative(ev.at - t0, delivered, 'exists event after the delivery began');
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

test('imapflow: list(), listTree(), status(), mailboxCreate/Rename/Delete', async (t) => {
  const s = await imapServer(t);
  await s.deliver('bob@example.com', message('one'));
  const c = flow(t, s.ports.imap, 'bob@example.com');
  await c.connect();
  const created = await c.mailboxCreate(['Clients', 'Acme']);
  assert.equal(created.path, 'Clients/Acme');
  assert.equal(created.created, true);
  const list = await c.list({ statusQuery: { messages: true, unseen: true } });
  const byPath = new Map(list.map((m) => [m.path, m]));
  assert.equal(byPath.get('INBOX')!.specialUse, '\\Inbox');
  assert.equal(byPath.get('INBOX')!.status!.messages, 1);
  assert.equal(byPath.get('INBOX')!.status!.unseen, 1);
  assert.equal(byPath.get('Sent')!.specialUse, '\\Sent');
  assert.equal(byPath.get('Trash')!.specialUse, '\\Trash');
  assert.equal(byPath.get('Clients/Acme')!.delimiter, '/');
  assert.equal(byPath.get('Clients/Acme')!.parentPath, 'Clients');
  assert.ok(byPath.get('Clients')!.flags.has('\\HasChildren'));
  const tree = await c.listTree();
  const clients = tree.folders!.find((f) => f.path === 'Clients')!;
  assert.deepEqual(
    clients.folders!.map((f) => f.path),
    ['Clients/Acme'],
  );
  const renamed = await c.mailboxRename('Clients', 'Customers');
  assert.equal(renamed.newPath, 'Customers');
  const st = await c.status('Customers/Acme', { messages: true, uidNext: true, uidValidity: true });
  assert.ok(st);
  assert.equal(st.messages, 0);
  assert.equal(st.uidNext, 1);
  assert.ok(Number(st.uidValidity) > 0);
  await c.mailboxDelete('Customers/Acme');
  const paths = (await c.list()).map((m) => m.path);
  assert.ok(!paths.includes('Customers/Acme') && !paths.includes('Clients/Acme'));
  assert.ok(paths.includes('Customers'));
  await assert.rejects(c.mailboxDelete('Customers/Acme'));
  await c.logout();
  const root = userRoot(s, 'bob@example.com');
  assert.ok(existsSync(join(root, '.Customers')) && !existsSync(join(root, '.Customers.Acme')));
});
