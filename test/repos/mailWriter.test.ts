import assert from 'node:assert/strict';
import { test } from 'node:test';
import { testDb } from '../helpers/db.ts';

// Nothing but the writer thread keeps this test's process alive while it commits: if the thread stayed unref'd
// during a batch, node:test would end the file with the promise pending.
test('the mail writer thread commits a batch off the main thread, keeping the process alive until it answers', async (t) => {
  const { repos } = testDb(t);
  t.after(() => repos.mail.close());
  repos.domains.create('example.com', { useTemplate: true });
  const user = repos.users.create({ email: 'bob@example.com', passwordHash: 'x' });
  const inbox = repos.mail.mailbox(user.id, 'INBOX')!;
  const item = (n: number) => ({
    userId: user.id,
    mailboxId: inbox.id,
    maildirName: `1.M${n}P1Q${n}.test`,
    size: 100 + n,
    internalDate: Date.now(),
    messageId: `<${n}@test>`,
    subject: `m${n}`,
    fromAddr: null,
    dateHeader: null,
  });
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
