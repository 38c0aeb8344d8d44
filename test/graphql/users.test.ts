import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifyPassword } from '../../src/auth/passwords.ts';
import { gql, ok } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/server.ts';

const USER = `__typename
  ... on User { id email localPart fullName status quota effectiveQuota usedBytes domain { name }
    mailboxes { name specialUse messageCount unseenCount uidValidity } aliases }
  ... on ValidationError { fieldErrors { path message } }
  ... on NotFoundError { entity key }
  ... on ConflictError { message }`;
const DEL = `__typename ... on Deleted { id key } ... on NotFoundError { entity key } ... on ConflictError { message }`;

const CREATE = `mutation($i: CreateUserInput!) { createUser(input: $i) { ${USER} } }`;

async function withDomain(t: any) {
  const s = await startTestServer(t);
  await ok(
    s.api,
    'mutation { createDomain(name: "example.com", overrides: { defaultQuota: 5000000000 }) { __typename } }',
  );
  return s;
}

test('createUser: hashed password, standard mailboxes with SPECIAL-USE and counts, effective quota', async (t) => {
  const { api, app } = await withDomain(t);
  const { createUser: u } = await ok(api, CREATE, {
    i: { email: 'Alice@Example.com', password: 'correct horse', fullName: 'Alice' },
  });
  assert.equal(u.__typename, 'User');
  assert.equal(u.email, 'alice@example.com');
  assert.equal(u.domain.name, 'example.com');
  assert.equal(u.quota, null);
  assert.equal(u.effectiveQuota, 5000000000);
  assert.equal(u.status, 'ACTIVE');
  assert.deepEqual(
    u.mailboxes.map((m: any) => [m.name, m.specialUse, m.messageCount, m.unseenCount]),
    [
      ['INBOX', null, 0, 0],
      ['Sent', '\\Sent', 0, 0],
      ['Drafts', '\\Drafts', 0, 0],
      ['Trash', '\\Trash', 0, 0],
      ['Junk', '\\Junk', 0, 0],
      ['Archive', '\\Archive', 0, 0],
    ],
  );
  const row = app.repos.users.get('alice@example.com')!;
  assert.ok(await verifyPassword('correct horse', row.password_hash));
  assert.equal(
    JSON.stringify(await gql(api, '{ user(email: "alice@example.com") { email } }')).includes('scrypt'),
    false,
  );
});

test('createUser errors: short password and bad address (with paths), unknown domain, duplicate, max_users', async (t) => {
  const { api, app } = await withDomain(t);
  const short = await ok(api, CREATE, { i: { email: 'a@example.com', password: 'short' } });
  assert.deepEqual(short.createUser.fieldErrors, [
    { path: ['input', 'password'], message: 'must be at least 10 characters' },
  ]);
  const bad = await ok(api, CREATE, { i: { email: 'not an address', password: 'long enough' } });
  assert.deepEqual(
    bad.createUser.fieldErrors.map((e: any) => e.path),
    [['input', 'email']],
  );
  const quota = await ok(api, CREATE, { i: { email: 'q@example.com', password: 'long enough', quota: -1 } });
  assert.deepEqual(
    quota.createUser.fieldErrors.map((e: any) => e.path),
    [['input', 'quota']],
  );
  const nodomain = await ok(api, CREATE, { i: { email: 'a@nowhere.example', password: 'long enough' } });
  assert.deepEqual([nodomain.createUser.__typename, nodomain.createUser.entity], ['NotFoundError', 'domain']);
  await ok(api, CREATE, { i: { email: 'a@example.com', password: 'long enough' } });
  const dup = await ok(api, CREATE, { i: { email: 'A@EXAMPLE.COM', password: 'long enough' } });
  assert.equal(dup.createUser.__typename, 'ConflictError');
  await ok(api, 'mutation { updateDomain(name: "example.com", input: { maxUsers: 1 }) { __typename } }');
  const full = await ok(api, CREATE, { i: { email: 'b@example.com', password: 'long enough' } });
  assert.match(full.createUser.message, /maximum of 1 users/);
  assert.equal(app.repos.users.count(), 1);
});

test('updateUser, setUserPassword, deleteUser; users connection filtered by domain', async (t) => {
  const { api, app } = await withDomain(t);
  await ok(api, 'mutation { createDomain(name: "other.example") { __typename } }');
  for (const e of ['a@example.com', 'b@example.com', 'c@other.example'])
    await ok(api, CREATE, { i: { email: e, password: 'long enough' } });
  const { updateUser: u } = await ok(
    api,
    `mutation { updateUser(email: "a@example.com", input: { quota: 1048576, status: SUSPENDED, fullName: "A" }) { ${USER} } }`,
  );
  assert.deepEqual([u.quota, u.effectiveQuota, u.status, u.fullName], [1048576, 1048576, 'SUSPENDED', 'A']);
  const pw = await ok(
    api,
    `mutation { setUserPassword(email: "a@example.com", password: "new password 1") { ${USER} } }`,
  );
  assert.equal(pw.setUserPassword.__typename, 'User');
  assert.ok(await verifyPassword('new password 1', app.repos.users.get('a@example.com')!.password_hash));
  const weak = await ok(api, `mutation { setUserPassword(email: "a@example.com", password: "x") { ${USER} } }`);
  assert.deepEqual(
    weak.setUserPassword.fieldErrors.map((e: any) => e.path),
    [['password']],
  );
  const list = await ok(api, '{ users(first: 10, filter: { domain: "example.com" }) { totalCount nodes { email } } }');
  assert.deepEqual(list.users, { totalCount: 2, nodes: [{ email: 'a@example.com' }, { email: 'b@example.com' }] });
  const suspended = await ok(api, '{ users(filter: { status: SUSPENDED }) { totalCount } }');
  assert.equal(suspended.users.totalCount, 1);
  const byDomain = await ok(
    api,
    '{ domain(name: "other.example") { users(first: 5) { totalCount nodes { email } } } }',
  );
  assert.deepEqual(byDomain.domain.users, { totalCount: 1, nodes: [{ email: 'c@other.example' }] });
  const del = await ok(api, `mutation { deleteUser(email: "b@example.com") { ${DEL} } }`);
  assert.deepEqual([del.deleteUser.__typename, del.deleteUser.key], ['Deleted', 'b@example.com']);
  const again = await ok(api, `mutation { deleteUser(email: "b@example.com") { ${DEL} } }`);
  assert.equal(again.deleteUser.__typename, 'NotFoundError');
  assert.equal(app.repos.audit.list().filter((a) => a.target_type === 'user').length, 6);
});

test('aliases: create (incl. forwarding), list, show on the user, delete; errors', async (t) => {
  const { api } = await withDomain(t);
  await ok(api, CREATE, { i: { email: 'bob@example.com', password: 'long enough' } });
  const A = `__typename ... on Alias { address destinations domain { name } } ... on ValidationError { fieldErrors { path message } }
    ... on NotFoundError { entity } ... on ConflictError { message }`;
  const c = await ok(
    api,
    `mutation { createAlias(address: "Sales@example.com", destinations: ["bob@example.com", "partner@remote.example"]) { ${A} } }`,
  );
  assert.deepEqual(c.createAlias, {
    __typename: 'Alias',
    address: 'sales@example.com',
    destinations: ['bob@example.com', 'partner@remote.example'],
    domain: { name: 'example.com' },
  });
  const user = await ok(api, '{ user(email: "bob@example.com") { aliases } }');
  assert.deepEqual(user.user.aliases, ['sales@example.com']);
  const list = await ok(api, '{ aliases(domain: "example.com") { totalCount nodes { address } } }');
  assert.equal(list.aliases.totalCount, 1);
  const shadow = await ok(
    api,
    `mutation { createAlias(address: "bob@example.com", destinations: ["x@example.com"]) { ${A} } }`,
  );
  assert.equal(shadow.createAlias.__typename, 'ConflictError');
  const bad = await ok(api, `mutation { createAlias(address: "x@example.com", destinations: ["nope"]) { ${A} } }`);
  assert.deepEqual(
    bad.createAlias.fieldErrors.map((e: any) => e.path.join('.')),
    ['destinations.0'],
  );
  const foreign = await ok(
    api,
    `mutation { createAlias(address: "x@elsewhere.example", destinations: ["bob@example.com"]) { ${A} } }`,
  );
  assert.equal(foreign.createAlias.__typename, 'NotFoundError');
  const del = await ok(api, `mutation { deleteAlias(address: "sales@example.com") { ${DEL} } }`);
  assert.equal(del.deleteAlias.key, 'sales@example.com');
});

test('queue: list with status filter, retry makes an entry due, delete removes it; errors', async (t) => {
  const { api, app } = await startTestServer(t, { queue: { hold: true } }); // rows stay as the test sets them
  const rows = app.repos.queue.enqueue(
    ['a@remote.example', 'b@remote.example', 'c@other.example'].map((r, i) => ({
      queue_id: `Q${i}`,
      spool_file: 'spool-1',
      sender: 's@example.com',
      recipient: r,
      recipient_domain: r.split('@')[1]!,
      size: 1234,
    })),
  );
  app.db.$client
    .prepare("update outbound_queue set status = 'deferred', next_attempt_at = ?, attempts = 3 where id = ?")
    .run(Date.now() + 3_600_000, rows[1]!.id);
  app.db.$client.prepare("update outbound_queue set status = 'sending' where id = ?").run(rows[2]!.id);
  const Q = `__typename ... on QueueEntry { id queueId status attempts nextAttemptAt } ... on NotFoundError { key } ... on ConflictError { message }`;
  const QD = `__typename ... on Deleted { key } ... on NotFoundError { key } ... on ConflictError { message }`;
  const all = await ok(api, '{ queue(first: 10) { totalCount nodes { id recipient status } } }');
  assert.equal(all.queue.totalCount, 3);
  const deferred = await ok(api, '{ queue(status: [DEFERRED]) { totalCount nodes { id recipient attempts } } }');
  assert.deepEqual(
    deferred.queue.nodes.map((n: any) => n.recipient),
    ['b@remote.example'],
  );
  const id = deferred.queue.nodes[0].id;
  const before = Date.now();
  const r = await ok(api, `mutation($id: ID!) { retryQueueEntry(id: $id) { ${Q} } }`, { id });
  assert.equal(r.retryQueueEntry.status, 'QUEUED');
  assert.equal(r.retryQueueEntry.attempts, 3);
  assert.ok(
    Date.parse(r.retryQueueEntry.nextAttemptAt) <= Date.now() &&
      Date.parse(r.retryQueueEntry.nextAttemptAt) >= before - 1000,
  );
  const sending = await ok(api, `mutation { deleteQueueEntry(id: "${rows[2]!.id}") { ${QD} } }`);
  assert.equal(sending.deleteQueueEntry.__typename, 'ConflictError');
  const d = await ok(api, `mutation($id: ID!) { deleteQueueEntry(id: $id) { ${QD} } }`, { id });
  assert.deepEqual(d.deleteQueueEntry, { __typename: 'Deleted', key: 'Q1' });
  const nf = await ok(api, `mutation($id: ID!) { retryQueueEntry(id: $id) { ${Q} } }`, { id });
  assert.equal(nf.retryQueueEntry.__typename, 'NotFoundError');
  assert.equal((await gql(api, '{ queue { totalCount } }')).data.queue.totalCount, 2);
});
