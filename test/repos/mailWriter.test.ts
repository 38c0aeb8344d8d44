import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { testDb } from '../helpers/db.ts';
import { tmpDir } from '../helpers/tmp.ts';

/** A database with bob@example.com, and a builder of new INBOX messages for him. */
function bobInbox(t: TestContext) {
  const { repos } = testDb(t);
  t.after(() => repos.mail.close());
  repos.domains.create('example.com', { useTemplate: true });
  const user = repos.users.create({ email: 'bob@example.com', passwordHash: 'x' });
  const inbox = repos.mail.mailbox(user.id, 'INBOX')!;
  const message = (maildirName: string, size: number, subject: string) => ({
    userId: user.id,
    mailboxId: inbox.id,
    maildirName,
    size,
    internalDate: Date.now(),
    messageId: null as string | null,
    subject,
    fromAddr: null,
    dateHeader: null,
  });
  return { repos, inbox, message };
}

// Nothing but the writer thread keeps this test's process alive while it commits: if the thread stayed unref'd
// during a batch, node:test would end the file with the promise pending.
test('the mail writer thread commits a batch off the main thread, keeping the process alive until it answers', async (t) => {
  const { repos, inbox, message } = bobInbox(t);
  const item = (n: number) => ({ ...message(`1.M${n}P1Q${n}.test`, 100 + n, `m${n}`), messageId: `<${n}@test>` });
  for (let round = 0; round < 3; round++) {
    // Let the event loop run dry between batches: the thread is idle (unref'd) in between.
    await new Promise((r) => setImmediate(r));
    const results = await repos.mail.deliverBatchAsync([
      { items: [item(round * 2)], events: [], forwards: [] },
      { items: [item(round * 2 + 1)], events: [], forwards: [] },
    ]);
    assert.deepEqual(
      results.map((r) => r.ok && r.stored[0]!.uid),
      [round * 2 + 1, round * 2 + 2],
    );
  }
  assert.equal(repos.mail.messages(inbox.id).length, 6);
  assert.equal(repos.users.get('bob@example.com')!.used_bytes, 6 * 100 + 15);
});

test('a job whose file step fails is reported failed and writes nothing; the rest of the batch commits with its files in place', async (t) => {
  const { repos, inbox, message } = bobInbox(t);
  const dir = tmpDir(t);
  for (const d of ['tmp', 'cur']) mkdirSync(join(dir, d));
  const job = (n: number, from: string) => ({
    items: [message(`m${n}`, 10, `m${n}`)],
    events: [],
    forwards: [],
    files: [
      { from, to: join(dir, 'cur', `m${n}:2,`), move: true },
      { from: join(dir, 'cur', `m${n}:2,`), to: join(dir, `copy${n}`), move: false },
    ],
  });
  writeFileSync(join(dir, 'tmp', 'm1'), 'first');
  writeFileSync(join(dir, 'tmp', 'm3'), 'third');
  const results = await repos.mail.deliverBatchAsync(
    [job(1, join(dir, 'tmp', 'm1')), job(2, join(dir, 'tmp', 'missing')), job(3, join(dir, 'tmp', 'm3'))],
    [join(dir, 'cur')],
  );
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, false, true],
  );
  assert.match(String(!results[1]!.ok && results[1]!.error.message), /ENOENT/);
  assert.deepEqual(
    repos.mail.messages(inbox.id).map((m) => [m.uid, m.subject]),
    [
      [1, 'm1'],
      [2, 'm3'],
    ],
  );
  assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'renamed away');
  assert.deepEqual(readdirSync(join(dir, 'cur')).sort(), ['m1:2,', 'm3:2,']);
  assert.equal(readFileSync(join(dir, 'copy3'), 'utf8'), 'third');
  assert.equal(statSync(join(dir, 'copy3')).nlink, 2, 'linked, not copied');
  assert.equal(repos.users.get('bob@example.com')!.used_bytes, 20);
});
