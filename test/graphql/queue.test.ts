import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { gql, ok, wsClient, wsSubscribe } from '../helpers/graphql.ts';
import { seedQueue, setQueueStatus } from '../helpers/queue.ts';
import { startTestServer } from '../helpers/server.ts';
import { subscribed } from '../helpers/wait.ts';

const ENTRY = `id rowId queueId sender recipient recipientDomain size status attempts nextAttemptAt lastAttemptAt
  lastError lastCode lastMx origin dsnNotify dsnRet dsnEnvid createdAt expiresAt`;
const RESULT = `__typename ... on QueueActionResult { affected refused { rowId status } }
  ... on NotFoundError { key } ... on ValidationError { fieldErrors { path message } } ... on ConflictError { message }`;

test('queue: filter, paging, every field, totalCount; queueSummary', async (t) => {
  const { api, app, config } = await startTestServer(t, { queue: { hold: true } }); // rows stay as the test sets them
  const { rows } = seedQueue(app.repos, config.storage.mail_dir);
  const [a, b, c] = rows;
  setQueueStatus(app.db, b!.id, 'deferred', {
    attempts: 2,
    last_attempt_at: 1_800_000_000_000,
    last_error: '451 4.7.1 try later',
    last_code: 451,
    last_mx: 'mx1.remote.example',
  });
  setQueueStatus(app.db, c!.id, 'sending');

  const first = await ok(api, `{ queue(first: 2) { totalCount pageInfo { hasNextPage endCursor } nodes { rowId } } }`);
  assert.equal(first.queue.totalCount, 4);
  assert.deepEqual(
    first.queue.nodes.map((n: any) => n.rowId),
    [a!.id, b!.id],
  );
  assert.equal(first.queue.pageInfo.hasNextPage, true);
  const second = await ok(
    api,
    `query($c: String) { queue(first: 2, after: $c) { pageInfo { hasNextPage } nodes { rowId } } }`,
    {
      c: first.queue.pageInfo.endCursor,
    },
  );
  assert.deepEqual(
    second.queue.nodes.map((n: any) => n.rowId),
    [c!.id, rows[3]!.id],
  );
  assert.equal(second.queue.pageInfo.hasNextPage, false);
  const last = await ok(api, '{ queue(last: 1) { nodes { rowId } } }');
  assert.deepEqual(last.queue.nodes, [{ rowId: rows[3]!.id }]);

  const f = await ok(
    api,
    `{ queue(filter: { status: [DEFERRED, SENDING], domain: "remote.example", sender: "ALICE", recipient: "carol", queueId: "Q1" }) {
      totalCount nodes { ${ENTRY} } } }`,
  );
  assert.equal(f.queue.totalCount, 1);
  const e = f.queue.nodes[0];
  assert.deepEqual(
    { ...e, id: undefined, nextAttemptAt: undefined, createdAt: undefined, expiresAt: undefined },
    {
      id: undefined,
      rowId: b!.id,
      queueId: 'Q1',
      sender: 'alice@example.com',
      recipient: 'carol@remote.example',
      recipientDomain: 'remote.example',
      size: 24,
      status: 'DEFERRED',
      attempts: 2,
      nextAttemptAt: undefined,
      lastAttemptAt: new Date(1_800_000_000_000).toISOString(),
      lastError: '451 4.7.1 try later',
      lastCode: 451,
      lastMx: 'mx1.remote.example',
      origin: 'FORWARD',
      dsnNotify: 'FAILURE',
      dsnRet: 'HDRS',
      dsnEnvid: 'env-Q1',
      createdAt: undefined,
      expiresAt: undefined,
    },
  );
  assert.ok(Date.parse(e.expiresAt) > Date.parse(e.createdAt));
  const node = await ok(api, `query($id: ID!) { node(id: $id) { ... on QueueEntry { recipient } } }`, { id: e.id });
  assert.equal(node.node.recipient, 'carol@remote.example');

  const s = await ok(api, '{ queueSummary { queued deferred sending oldestAt } }');
  assert.equal(s.queueSummary.queued, 2);
  assert.equal(s.queueSummary.deferred, 1);
  assert.equal(s.queueSummary.sending, 1);
  assert.ok(Math.abs(Date.parse(s.queueSummary.oldestAt) - a!.created_at) < 1000);

  const tooMany = await gql(api, '{ queue(first: 101) { totalCount } }');
  assert.ok(tooMany.errors?.length, 'page size is capped');
});

test('retryQueue and deleteQueue: affected and refused, typed errors, spool files, audit, queueChanged', async (t) => {
  const { api, app, config } = await startTestServer(t, { queue: { hold: true } }); // rows stay as the test sets them
  const { rows, spool1, spool2 } = seedQueue(app.repos, config.storage.mail_dir);
  const [a, b, c, d] = rows;
  setQueueStatus(app.db, a!.id, 'deferred', { attempts: 3, next_attempt_at: Date.now() + 3_600_000 });
  setQueueStatus(app.db, b!.id, 'sending');
  setQueueStatus(app.db, c!.id, 'delivered');

  const client = wsClient(api);
  t.after(() => client.dispose());
  const before = app.bus.listenerCount('queue.changed');
  const sub = wsSubscribe(client, 'subscription { queueChanged(queueId: "Q1") { queueId status droppedEvents } }');
  await subscribed(app.bus, 'queue.changed', before);

  const retried = await ok(api, `mutation { retryQueue(queueId: "Q1") { ${RESULT} } }`);
  assert.deepEqual(retried.retryQueue, {
    __typename: 'QueueActionResult',
    affected: 1,
    refused: [
      { rowId: b!.id, status: 'SENDING' },
      { rowId: c!.id, status: 'DELIVERED' },
    ],
  });
  const row = app.repos.queue.get(a!.id)!;
  assert.equal(row.status, 'queued');
  assert.equal(row.attempts, 3);
  assert.ok(row.next_attempt_at <= Date.now());
  assert.deepEqual((await sub.next()).data.queueChanged, { queueId: 'Q1', status: 'QUEUED', droppedEvents: 0 });

  const all = await ok(api, `mutation { retryQueue(all: true) { ${RESULT} } }`);
  assert.equal(all.retryQueue.affected, 2);
  assert.equal((await sub.next()).data.queueChanged.status, 'QUEUED', 'Q1 again (Q2 filtered out)');

  for (const [args, typename, check] of [
    ['queueId: "NOPE"', 'NotFoundError', (r: any) => assert.equal(r.key, 'NOPE')],
    [`ids: ["${d!.id}", "999999"]`, 'NotFoundError', (r: any) => assert.equal(r.key, '999999')],
    [`ids: ["${d!.id}"], queueId: "Q2"`, 'ValidationError', () => {}],
    ['', 'ValidationError', () => {}],
    ['ids: ["not-an-id"]', 'ValidationError', (r: any) => assert.deepEqual(r.fieldErrors[0].path, ['ids', '0'])],
  ] as const) {
    const r = (await ok(api, `mutation { retryQueue${args ? `(${args})` : ''} { ${RESULT} } }`)).retryQueue;
    assert.equal(r.__typename, typename, args);
    check(r);
  }
  const noAll = await gql(api, `mutation { deleteQueue(all: true) { ${RESULT} } }`);
  assert.ok(noAll.errors?.length, 'deleteQueue has no `all` argument');

  // The entry being sent is refused and keeps the spool file alive; Q2's file goes with its only row.
  const del = await ok(api, `mutation($ids: [ID!]) { deleteQueue(ids: $ids) { ${RESULT} } }`, {
    ids: [String(a!.id), String(b!.id), String(d!.id)],
  });
  assert.deepEqual(del.deleteQueue, {
    __typename: 'QueueActionResult',
    affected: 2,
    refused: [{ rowId: b!.id, status: 'SENDING' }],
  });
  assert.equal(existsSync(spool2), false, 'no row references spool-2 any more');
  assert.equal(existsSync(spool1), true, 'rows of Q1 still reference spool-1');
  const events = [(await sub.next()).data.queueChanged];
  assert.deepEqual(events, [{ queueId: 'Q1', status: 'CANCELLED', droppedEvents: 0 }], 'the filter left Q2 out');

  const single = await ok(
    api,
    `mutation { deleteQueueEntry(id: "${b!.id}") { __typename ... on ConflictError { message } } }`,
  );
  assert.equal(single.deleteQueueEntry.__typename, 'ConflictError');

  setQueueStatus(app.db, b!.id, 'deferred');
  const rest = await ok(api, `mutation { deleteQueue(queueId: "Q1") { ${RESULT} } }`);
  assert.equal(rest.deleteQueue.affected, 2);
  assert.equal(existsSync(spool1), false, 'the last row of Q1 is gone, so is its spool file');
  assert.equal(app.repos.queue.count(), 0);

  const audit = app.repos.audit
    .list()
    .filter((x) => x.action.startsWith('queue.'))
    .map((x) => [x.action, x.target, x.actor]);
  assert.deepEqual(audit.reverse(), [
    ['queue.retry', 'Q1', 'admin-token'],
    ['queue.retry', 'all', 'admin-token'],
    ['queue.delete', `ids:${a!.id},${b!.id},${d!.id}`, 'admin-token'],
    ['queue.delete', 'Q1', 'admin-token'],
  ]);
  sub.dispose();
});
