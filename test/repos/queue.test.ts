import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { queueSelection } from '../../src/queue/selection.ts';
import { removeUnreferenced } from '../../src/queue/spoolFiles.ts';
import { InvalidInputError, NotFoundError, ValidationError } from '../../src/repos/errors.ts';
import { nextTick, testDb } from '../helpers/db.ts';
import { tmpDir } from '../helpers/tmp.ts';

type Repos = ReturnType<typeof testDb>['repos'];

/** Rows of two messages: Q1 (spool-1) to three recipients, Q2 (spool-2) to one. */
function seed(repos: Repos, dir = '/nonexistent') {
  const row = (queue_id: string, spool: string, sender: string, recipient: string) => ({
    queue_id,
    spool_file: join(dir, spool),
    sender,
    recipient,
    recipient_domain: recipient.split('@')[1]!,
    size: 100,
  });
  return repos.queue.enqueue([
    row('Q1', 'spool-1', 'Alice@Example.com', 'bob@remote.example'),
    row('Q1', 'spool-1', 'Alice@Example.com', 'carol@remote.example'),
    row('Q1', 'spool-1', 'Alice@Example.com', 'dave@other.example'),
    row('Q2', 'spool-2', 'srs0=x@example.com', 'Erin_50%@remote.example'),
  ]);
}

const setStatus = (db: ReturnType<typeof testDb>['db'], id: number, status: string, extra = '') =>
  db.$client.prepare(`update outbound_queue set status = ?${extra} where id = ?`).run(status, id);

test('list filters by status, domain, sender and recipient substrings, queue id; pages by id both ways', (t) => {
  const { repos, db } = testDb(t);
  const [a, b, c, d] = seed(repos);
  setStatus(db, b!.id, 'deferred');
  setStatus(db, c!.id, 'sending');
  const ids = (rows: { id: number }[]) => rows.map((r) => r.id);
  assert.deepEqual(ids(repos.queue.list()), [a!.id, b!.id, c!.id, d!.id]);
  assert.deepEqual(ids(repos.queue.list({ statuses: ['deferred', 'sending'] })), [b!.id, c!.id]);
  assert.deepEqual(ids(repos.queue.list({ domain: 'Remote.Example' })), [a!.id, b!.id, d!.id]);
  assert.deepEqual(ids(repos.queue.list({ sender: 'alice@example' })), [a!.id, b!.id, c!.id], 'case-insensitive');
  assert.deepEqual(ids(repos.queue.list({ recipient: 'CAROL' })), [b!.id]);
  assert.deepEqual(ids(repos.queue.list({ recipient: '_50%' })), [d!.id], 'LIKE wildcards are literal');
  assert.deepEqual(ids(repos.queue.list({ recipient: '%' })), [d!.id]);
  assert.deepEqual(ids(repos.queue.list({ queueId: 'Q2' })), [d!.id]);
  assert.deepEqual(ids(repos.queue.list({ queueId: 'Q1', domain: 'other.example' })), [c!.id]);
  assert.deepEqual(ids(repos.queue.list({ after: a!.id, limit: 2 })), [b!.id, c!.id]);
  assert.deepEqual(ids(repos.queue.list({ before: d!.id, limit: 2, descending: true })), [c!.id, b!.id]);
  assert.equal(repos.queue.count(), 4);
  assert.equal(repos.queue.count({ statuses: ['queued'], domain: 'remote.example' }), 2);
  assert.deepEqual(repos.queue.countByStatus(), {
    queued: 2,
    deferred: 1,
    sending: 1,
    delivered: 0,
    bounced: 0,
    cancelled: 0,
  });
});

test('summary and oldestPending count only queued, deferred and sending rows', (t) => {
  const { repos, db } = testDb(t);
  assert.deepEqual(repos.queue.summary(), { queued: 0, deferred: 0, sending: 0, oldestAt: null });
  const [a, b, c, d] = seed(repos);
  const at = (id: number, ms: number) =>
    db.$client.prepare('update outbound_queue set created_at = ? where id = ?').run(ms, id);
  at(a!.id, 1000);
  at(b!.id, 2000);
  at(c!.id, 3000);
  at(d!.id, 4000);
  setStatus(db, a!.id, 'delivered');
  setStatus(db, b!.id, 'bounced');
  setStatus(db, c!.id, 'sending');
  assert.equal(repos.queue.oldestPending(), 3000);
  assert.deepEqual(repos.queue.summary(), { queued: 1, deferred: 0, sending: 1, oldestAt: 3000 });
});

test('retry makes queued/deferred rows due now, keeps attempts, leaves the others; unknown ids change nothing', async (t) => {
  const { repos, db, bus } = testDb(t);
  const [a, b, c, d] = seed(repos);
  await nextTick();
  const later = Date.now() + 3_600_000;
  setStatus(db, a!.id, 'deferred', `, attempts = 4, next_attempt_at = ${later}`);
  setStatus(db, b!.id, 'sending');
  setStatus(db, c!.id, 'delivered');
  const events: unknown[] = [];
  bus.subscribe('queue.changed', (e) => {
    events.push(e);
  });
  const before = Date.now();
  const r = repos.queue.retry({ queueId: 'Q1' });
  assert.equal(r.affected, 1);
  assert.deepEqual(
    r.refused.map((q) => [q.id, q.status]),
    [
      [b!.id, 'sending'],
      [c!.id, 'delivered'],
    ],
  );
  const row = repos.queue.get(a!.id)!;
  assert.equal(row.status, 'queued');
  assert.equal(row.attempts, 4);
  assert.ok(row.next_attempt_at >= before && row.next_attempt_at <= Date.now());
  assert.equal(repos.queue.get(b!.id)!.status, 'sending');
  assert.equal(repos.queue.get(c!.id)!.status, 'delivered');
  await nextTick();
  assert.deepEqual(events, [{ queueId: 'Q1', status: 'queued' }], 'published after the commit, once per queue id');

  assert.throws(() => repos.queue.retry({ ids: [d!.id, 999_999] }), NotFoundError);
  assert.throws(() => repos.queue.retry({ queueId: 'NOPE' }), NotFoundError);
  assert.throws(() => repos.queue.retry({ ids: [] }), InvalidInputError);
  const all = repos.queue.retry({ all: true });
  assert.deepEqual(
    all.rows.map((q) => q.id),
    [a!.id, d!.id],
  );
  assert.deepEqual(all.refused, [], '--all selects only retryable rows');
});

test('delete refuses rows being sent and returns only the spool files no remaining pending row uses', async (t) => {
  const { repos, db, bus } = testDb(t);
  const [a, b, c, d] = seed(repos);
  setStatus(db, b!.id, 'sending');
  const events: unknown[] = [];
  bus.subscribe('queue.changed', (e) => {
    events.push(e);
  });

  const one = repos.queue.delete({ ids: [a!.id, d!.id] });
  assert.equal(one.affected, 2);
  assert.deepEqual(one.refused, []);
  assert.deepEqual(one.unreferencedSpoolFiles, ['/nonexistent/spool-2'], 'spool-1 is still used by Q1 rows');
  await nextTick();
  assert.deepEqual(events, [
    { queueId: 'Q1', status: 'cancelled' },
    { queueId: 'Q2', status: 'cancelled' },
  ]);

  const refused = repos.queue.delete({ ids: [b!.id] });
  assert.equal(refused.affected, 0);
  assert.deepEqual(
    refused.refused.map((q) => q.id),
    [b!.id],
  );
  assert.deepEqual(refused.unreferencedSpoolFiles, []);
  assert.ok(repos.queue.get(b!.id), 'a row being sent stays');

  const rest = repos.queue.delete({ queueId: 'Q1' });
  assert.deepEqual(
    rest.rows.map((q) => q.id),
    [c!.id],
  );
  assert.deepEqual(
    rest.refused.map((q) => q.id),
    [b!.id],
  );
  assert.deepEqual(rest.unreferencedSpoolFiles, [], 'the row being sent still needs spool-1');

  setStatus(db, b!.id, 'deferred');
  const last = repos.queue.delete({ queueId: 'Q1' });
  assert.deepEqual(last.unreferencedSpoolFiles, ['/nonexistent/spool-1']);
  assert.equal(repos.queue.count(), 0);

  // A settled row kept for history (delivered, bounced, cancelled) does not keep the file.
  const [x, y, z] = seed(repos);
  setStatus(db, x!.id, 'delivered');
  setStatus(db, y!.id, 'bounced');
  assert.deepEqual(repos.queue.delete({ ids: [z!.id] }).unreferencedSpoolFiles, ['/nonexistent/spool-1']);
  assert.equal(repos.queue.count({ queueId: 'Q1' }), 2);
  assert.throws(() => repos.queue.delete({ ids: [a!.id] }), NotFoundError);
});

test('removeUnreferenced unlinks files, ignores missing ones and logs other failures', async (t) => {
  const dir = tmpDir(t);
  mkdirSync(join(dir, '.queue'));
  const f1 = join(dir, '.queue', 'one');
  writeFileSync(f1, 'x');
  const warnings: unknown[] = [];
  const log = { warn: (obj: Record<string, unknown>, msg: string) => warnings.push([msg, obj.file]) };
  assert.equal(await removeUnreferenced([f1, f1, join(dir, '.queue', 'gone')], log), 1);
  assert.equal(existsSync(f1), false);
  assert.deepEqual(warnings, []);
  assert.equal(await removeUnreferenced([join(dir, '.queue')], log), 0, 'a directory cannot be unlinked');
  assert.equal(warnings.length, 1);
});

test('queueSelection: exactly one of ids, queueId, all; ids are positive integers', () => {
  assert.deepEqual(queueSelection({ ids: [3, '4'] }, { allowAll: false }), { ids: [3, 4] });
  assert.deepEqual(queueSelection({ queueId: ' Q1 ' }, { allowAll: false }), { queueId: 'Q1' });
  assert.deepEqual(queueSelection({ all: true }, { allowAll: true }), { all: true });
  const paths = (input: Parameters<typeof queueSelection>[0], allowAll = false) => {
    try {
      queueSelection(input, { allowAll, fields: { queueId: 'queue_id' } });
    } catch (e) {
      assert.ok(e instanceof ValidationError);
      return e.issues.map((i) => i.path.join('.'));
    }
    return 'no error';
  };
  assert.deepEqual(paths({}), ['']);
  assert.deepEqual(paths({ ids: [1], queueId: 'Q' }), ['']);
  assert.deepEqual(paths({ ids: [] }), ['ids']);
  assert.deepEqual(paths({ ids: [1, -2, 'x'] }), ['ids.1', 'ids.2']);
  assert.deepEqual(paths({ queueId: '' }), ['queue_id']);
  assert.deepEqual(paths({ all: true }), ['all']);
});
