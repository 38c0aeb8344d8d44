import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { TOKEN } from '../helpers/graphql.ts';
import { seedQueue, setQueueStatus } from '../helpers/queue.ts';
import { startTestServer } from '../helpers/server.ts';

async function call(api: string, method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('GET /api/queue: filters, paging with next_after, 400 naming bad parameters; summary and one entry', async (t) => {
  const { api, app, config } = await startTestServer(t, { queue: { hold: true } }); // rows stay as the test sets them
  const { rows } = seedQueue(app.repos, config.storage.mail_dir);
  const [a, b, c, d] = rows;
  setQueueStatus(app.db, b!.id, 'deferred', { last_error: '451 try later', last_code: 451 });
  setQueueStatus(app.db, c!.id, 'sending');

  assert.equal((await call(api, 'GET', '/api/queue', undefined, null)).status, 401);
  const page1 = await call(api, 'GET', '/api/queue?limit=3');
  assert.equal(page1.status, 200);
  assert.equal(page1.body.total, 4);
  assert.deepEqual(
    page1.body.entries.map((e: any) => e.id),
    [a!.id, b!.id, c!.id],
  );
  assert.equal(page1.body.next_after, c!.id);
  const page2 = await call(api, 'GET', `/api/queue?limit=3&after=${page1.body.next_after}`);
  assert.deepEqual(
    page2.body.entries.map((e: any) => e.id),
    [d!.id],
  );
  assert.equal(page2.body.next_after, null);

  const deferred = await call(api, 'GET', '/api/queue?status=deferred,sending&domain=remote.example');
  assert.equal(deferred.body.total, 1, 'the entry being sent goes to other.example');
  const e = deferred.body.entries[0];
  assert.equal(e.recipient, 'carol@remote.example');
  assert.equal(e.status, 'deferred');
  assert.equal(e.last_error, '451 try later');
  assert.equal(e.last_code, 451);
  assert.equal(e.origin, 'forward');
  assert.equal(e.dsn_envid, 'env-Q1');
  assert.equal(typeof e.next_attempt_at, 'number');
  assert.equal('spool_file' in e, false, 'the spool path stays internal');
  const byRcpt = await call(api, 'GET', '/api/queue?recipient=ERIN&sender=alice&queue_id=Q2');
  assert.deepEqual(
    byRcpt.body.entries.map((x: any) => x.id),
    [d!.id],
  );

  const bad = await call(api, 'GET', '/api/queue?status=stuck&limit=0&after=x&color=red');
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.fields.map((f: any) => f.field).sort(), ['after', 'color', 'limit', 'status']);

  const summary = await call(api, 'GET', '/api/queue/summary');
  assert.equal(summary.status, 200);
  assert.deepEqual(
    { ...summary.body, oldest_at: typeof summary.body.oldest_at, oldest_age_seconds: undefined },
    { queued: 2, deferred: 1, sending: 1, oldest_at: 'number', oldest_age_seconds: undefined },
  );
  assert.ok(summary.body.oldest_age_seconds >= 0);

  assert.equal((await call(api, 'GET', `/api/queue/${a!.id}`)).body.recipient, 'bob@remote.example');
  assert.equal((await call(api, 'GET', '/api/queue/999999')).status, 404);
  const badId = await call(api, 'GET', '/api/queue/abc');
  assert.equal(badId.status, 400);
  assert.equal(badId.body.fields[0].field, 'id');

  const doc = (await call(api, 'GET', '/api/openapi.json')).body;
  for (const p of ['/api/queue', '/api/queue/summary', '/api/queue/retry', '/api/queue/{id}/retry'])
    assert.ok(doc.paths[p], p);
  assert.ok(doc.paths['/api/queue'].delete && doc.paths['/api/queue/{id}'].delete);
  assert.ok(doc.components.schemas.QueueEntry && doc.components.schemas.QueueReport);
});

test('retry and delete over REST: 200 with the report, 409 when every entry is refused, 404, 400', async (t) => {
  const { api, app, config } = await startTestServer(t, { queue: { hold: true } }); // rows stay as the test sets them
  const { rows, spool1, spool2 } = seedQueue(app.repos, config.storage.mail_dir);
  const [a, b, c, d] = rows;
  setQueueStatus(app.db, a!.id, 'deferred', { attempts: 5, next_attempt_at: Date.now() + 3_600_000 });
  setQueueStatus(app.db, b!.id, 'sending');

  const one = await call(api, 'POST', `/api/queue/${a!.id}/retry`);
  assert.equal(one.status, 200);
  assert.deepEqual(one.body, { affected: 1, refused: [] });
  assert.equal(app.repos.queue.get(a!.id)!.attempts, 5);
  assert.ok(app.repos.queue.get(a!.id)!.next_attempt_at <= Date.now());

  const busy = await call(api, 'POST', `/api/queue/${b!.id}/retry`);
  assert.equal(busy.status, 409);
  assert.equal(busy.body.error, 'conflict');
  assert.deepEqual(busy.body.refused, [
    { id: b!.id, queue_id: 'Q1', recipient: 'carol@remote.example', status: 'sending' },
  ]);

  const byQueue = await call(api, 'POST', '/api/queue/retry', { queue_id: 'Q1' });
  assert.equal(byQueue.status, 200);
  assert.equal(byQueue.body.affected, 2);
  assert.equal(byQueue.body.refused.length, 1);
  assert.equal((await call(api, 'POST', '/api/queue/retry', { all: true })).body.affected, 3);
  assert.equal((await call(api, 'POST', '/api/queue/retry', { ids: [d!.id] })).body.affected, 1);

  for (const [body, fields] of [
    [{}, ['(body)']],
    [{ ids: [a!.id], queue_id: 'Q1' }, ['(body)']],
    [{ ids: 'one' }, ['ids']],
    [{ ids: [0, 'x'] }, ['ids.0', 'ids.1']],
    [{ queue_id: 7, extra: 1 }, ['extra', 'queue_id']],
    [{ all: 'yes' }, ['all']],
  ] as const) {
    const r = await call(api, 'POST', '/api/queue/retry', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    assert.deepEqual(r.body.fields.map((f: any) => f.field).sort(), fields, JSON.stringify(body));
  }
  assert.equal((await call(api, 'POST', '/api/queue/retry', '{"ids": [')).body.error, 'invalid_json');
  assert.equal((await call(api, 'POST', '/api/queue/retry', { queue_id: 'NOPE' })).status, 404);
  assert.equal((await call(api, 'POST', '/api/queue/999999/retry')).status, 404);

  const refused = await call(api, 'DELETE', `/api/queue/${b!.id}`);
  assert.equal(refused.status, 409);
  assert.match(refused.body.message, /being sent/);
  assert.ok(app.repos.queue.get(b!.id));

  const gone = await call(api, 'DELETE', `/api/queue/${d!.id}`);
  assert.deepEqual([gone.status, gone.body], [200, { affected: 1, refused: [] }]);
  assert.equal(existsSync(spool2), false);
  assert.equal((await call(api, 'DELETE', `/api/queue/${d!.id}`)).status, 404);

  assert.equal((await call(api, 'DELETE', '/api/queue')).body.fields[0].field, 'queue_id');
  assert.equal((await call(api, 'DELETE', '/api/queue?queue_id=NOPE')).status, 404);
  const partly = await call(api, 'DELETE', '/api/queue?queue_id=Q1');
  assert.equal(partly.status, 200);
  assert.equal(partly.body.affected, 2);
  assert.deepEqual(
    partly.body.refused.map((x: any) => x.id),
    [b!.id],
  );
  assert.equal(existsSync(spool1), true, 'the entry being sent still needs it');
  assert.deepEqual(
    app.repos.queue.list().map((q) => q.id),
    [b!.id],
  );
  assert.equal(c!.queue_id, 'Q1');
});
