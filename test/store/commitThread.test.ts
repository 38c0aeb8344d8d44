import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import type { DeliveryJob } from '../../src/repos/deliveries.ts';
import { createCommitThread } from '../../src/store/commitThread.ts';
import type { FileStep } from '../../src/store/placeFiles.d.mts';
import { testDb } from '../helpers/db.ts';
import { tmpDir } from '../helpers/tmp.ts';

/** A database file with bob@example.com, the commit thread on it, and a builder of new INBOX messages for him. */
function bobInbox(t: TestContext) {
  const { repos } = testDb(t);
  const setup = repos.deliveries.connection();
  assert.ok(setup, 'a database file has a second connection for the commit thread');
  const thread = createCommitThread(setup);
  t.after(() => thread.close());
  repos.domains.create('example.com', { useTemplate: true });
  const user = repos.users.create({ email: 'bob@example.com', passwordHash: 'x' });
  const inbox = repos.mailboxes.get(user.id, 'INBOX')!;
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
  /** Commits `jobs` with their file steps on the thread, as store/deliver.ts does, and publishes the results. */
  const commit = async (jobs: DeliveryJob[], files: FileStep[][], dirs: string[] = []) => {
    const now = Date.now();
    return repos.deliveries.committed(jobs, await thread.write(repos.deliveries.encode(jobs, now), files, dirs), now);
  };
  const rows = () => repos.messages.rows(inbox.id, repos.messages.uids(inbox.id));
  return { repos, commit, rows, message };
}

// Nothing but the commit thread keeps this test's process alive while it commits: if the thread stayed unref'd
// during a batch, node:test would end the file with the promise pending.
test('the commit thread commits a batch off the main thread, keeping the process alive until it answers', async (t) => {
  const { repos, commit, rows, message } = bobInbox(t);
  const item = (n: number) => ({ ...message(`1.M${n}P1Q${n}.test`, 100 + n, `m${n}`), messageId: `<${n}@test>` });
  for (let round = 0; round < 3; round++) {
    // Let the event loop run dry between batches: the thread is idle (unref'd) in between.
    await new Promise((r) => setImmediate(r));
    const results = await commit(
      [
        { items: [item(round * 2)], events: [], forwards: [] },
        { items: [item(round * 2 + 1)], events: [], forwards: [] },
      ],
      [[], []],
    );
    assert.deepEqual(
      results.map((r) => r.ok && r.stored[0]!.uid),
      [round * 2 + 1, round * 2 + 2],
    );
  }
  assert.equal(rows().length, 6);
  assert.equal(repos.users.get('bob@example.com')!.used_bytes, 6 * 100 + 15);
});

test('a job whose file step fails is reported failed and writes nothing; the rest of the batch commits with its files in place', async (t) => {
  const { repos, commit, rows, message } = bobInbox(t);
  const dir = tmpDir(t);
  for (const d of ['tmp', 'cur']) mkdirSync(join(dir, d));
  const job = (n: number) => ({ items: [message(`m${n}`, 10, `m${n}`)], events: [], forwards: [] });
  const steps = (n: number, from: string) => [
    { from, to: join(dir, 'cur', `m${n}:2,`), move: true },
    { from: join(dir, 'cur', `m${n}:2,`), to: join(dir, `copy${n}`), move: false },
  ];
  writeFileSync(join(dir, 'tmp', 'm1'), 'first');
  writeFileSync(join(dir, 'tmp', 'm3'), 'third');
  const results = await commit(
    [job(1), job(2), job(3)],
    [steps(1, join(dir, 'tmp', 'm1')), steps(2, join(dir, 'tmp', 'missing')), steps(3, join(dir, 'tmp', 'm3'))],
    [join(dir, 'cur')],
  );
  assert.deepEqual(
    results.map((r) => r.ok),
    [true, false, true],
  );
  assert.match(String(!results[1]!.ok && results[1]!.error.message), /ENOENT/);
  assert.deepEqual(
    rows().map((m) => [m.uid, m.subject]),
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
