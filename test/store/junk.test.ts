import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Topics } from '../../src/events/topics.ts';
import { mailStoreFor } from '../helpers/mailStore.ts';
import { waitUntil } from '../helpers/wait.ts';

const MESSAGE = 'From: a@example.org\r\nSubject: cheap pills\r\nMessage-ID: <spam@example.org>\r\n\r\nbuy\r\n';

test('junkOf: the \\Junk mailbox every user gets', async (t) => {
  const { mail, repos, user } = mailStoreFor(t);
  const bob = user('bob');
  const junk = repos.mailboxes.get(bob.id, 'Junk')!;
  assert.equal(junk.special_use, '\\Junk');
  assert.deepEqual(mail.junkOf(bob), { userId: bob.id, email: bob.email, mailboxId: junk.id, mailboxName: 'Junk' });
  // Renamed, it keeps its SPECIAL-USE: quarantine follows it.
  await mail.renameMailbox(bob, 'Junk', 'Spam');
  const spam = mail.junkOf(bob);
  assert.equal(spam.mailboxName, 'Spam');
  assert.equal(spam.mailboxId, junk.id);
});

test('spooled into INBOX tmp/, quarantined: renamed into Junk cur/, indexed there with its UIDs and counts', async (t) => {
  const { mail, repos, mailDir, user, spool } = mailStoreFor(t);
  const bob = user('bob');
  const root = join(mailDir, 'example.com', 'bob');
  const junk = mail.junkOf(bob);
  for (const n of [1, 2]) {
    const spooled = await spool(bob, MESSAGE);
    assert.equal(spooled.path, join(root, 'tmp', spooled.unique));
    const out = await mail.rewriteHeaders(spooled, { prepend: ['X-Spam-Status: Yes, score=9.1'] });
    const [stored] = await mail.deliver(out, [junk], []);
    assert.equal(stored?.uid, n);
    assert.equal(stored?.mailboxId, junk.mailboxId);
    const file = join(root, '.Junk', 'cur', `${out.unique},S=${out.size}:2,`);
    assert.ok(readFileSync(file, 'latin1').startsWith('X-Spam-Status: Yes, score=9.1\r\nReceived: '));
    assert.equal(statSync(file).nlink, 1, 'renamed, not linked');
    assert.ok(!existsSync(out.path));
  }
  assert.deepEqual(readdirSync(join(root, 'tmp')), []);
  assert.deepEqual(readdirSync(join(root, 'cur')), []);
  const inbox = repos.mailboxes.get(bob.id, 'INBOX')!;
  assert.equal(repos.mailboxes.status(inbox.id).messages, 0);
  const status = repos.mailboxes.status(junk.mailboxId);
  assert.equal(status.messages, 2);
  assert.equal(status.unseen, 2);
  assert.equal(status.uidnext, 3);
  const rows = repos.messages.rows(junk.mailboxId, repos.messages.uids(junk.mailboxId));
  assert.deepEqual(
    rows.map((r) => [r.uid, r.message_id]),
    [
      [1, '<spam@example.org>'],
      [2, '<spam@example.org>'],
    ],
  );
  assert.equal(repos.users.get(bob.email)!.used_bytes, rows[0]!.size + rows[1]!.size);
  // Readable through the store, as IMAP reads it.
  const read = await mail.read(bob, 'Junk', { ...rows[0]!, keywords: [] });
  assert.equal(read.length, rows[0]!.size);
});

test('recipients with different verdicts: one Junk, one INBOX, of different users; then from the shared spool', async (t) => {
  const { mail, repos, mailDir, user, inboxOf, spool } = mailStoreFor(t);
  const bob = user('bob');
  const alice = user('alice');
  // Spooled into bob's INBOX tmp/ (the first recipient); bob quarantines it, alice takes it.
  const spooled = await spool(bob, MESSAGE);
  const stored = await mail.deliver(spooled, [inboxOf(alice), mail.junkOf(bob)], []);
  assert.deepEqual(
    stored.map((s) => s.uid),
    [1, 1],
  );
  const name = `${spooled.unique},S=${spooled.size}:2,`;
  const bobJunk = join(mailDir, 'example.com', 'bob', '.Junk', 'cur', name);
  const aliceInbox = join(mailDir, 'example.com', 'alice', 'cur', name);
  assert.equal(statSync(bobJunk).nlink, 2, 'one file, linked');
  assert.equal(statSync(aliceInbox).ino, statSync(bobJunk).ino);
  assert.deepEqual(readdirSync(join(mailDir, 'example.com', 'bob', 'tmp')), []);
  assert.equal(repos.mailboxes.status(mail.junkOf(bob).mailboxId).messages, 1);
  assert.equal(repos.mailboxes.status(inboxOf(alice).mailboxId).messages, 1);

  // No local mailbox took the spool (<mail_dir>/.spool): linked into Junk, the spool name removed after the commit.
  const unrouted = await spool(null, MESSAGE);
  assert.equal(unrouted.path, join(mailDir, '.spool', unrouted.unique));
  await mail.deliver(unrouted, [mail.junkOf(alice)], []);
  assert.ok(
    existsSync(join(mailDir, 'example.com', 'alice', '.Junk', 'cur', `${unrouted.unique},S=${unrouted.size}:2,`)),
  );
  await waitUntil(() => !existsSync(unrouted.path), 'the spool name removed');
});

test('a deleted Junk is created again (with \\Junk, its folder and a mailbox.changed event) and takes mail', async (t) => {
  const { mail, repos, bus, mailDir, user, spool } = mailStoreFor(t);
  const bob = user('bob');
  const old = mail.junkOf(bob);
  mail.deleteMailbox(bob, 'Junk');
  const events: Topics['mailbox.changed'][] = [];
  bus.subscribe('mailbox.changed', (e) => {
    events.push(e);
  });
  const junk = mail.junkOf(bob);
  assert.equal(junk.mailboxName, 'Junk');
  assert.notEqual(junk.mailboxId, old.mailboxId);
  assert.equal(repos.mailboxes.byId(junk.mailboxId)!.special_use, '\\Junk');
  assert.ok(existsSync(join(mailDir, 'example.com', 'bob', '.Junk', 'cur')));
  assert.deepEqual(mail.junkOf(bob), junk, 'created once');
  await waitUntil(() => events.length > 0, 'the mailbox.changed event');
  assert.deepEqual(
    events.map((e) => [e.kind, e.mailboxId]),
    [['created', junk.mailboxId]],
  );
  const [stored] = await mail.deliver(await spool(bob, MESSAGE), [junk], []);
  assert.equal(stored?.uid, 1);
  assert.equal(repos.mailboxes.status(junk.mailboxId).messages, 1);
});

test('a "Junk" without SPECIAL-USE is used as it is, not duplicated', async (t) => {
  const { mail, user } = mailStoreFor(t);
  const bob = user('bob');
  mail.deleteMailbox(bob, 'Junk');
  const [plain] = mail.createMailbox(bob, 'Junk');
  assert.equal(mail.junkOf(bob).mailboxId, plain!.id);
});
