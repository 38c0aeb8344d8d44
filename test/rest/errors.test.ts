import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TOKEN } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/server.ts';

async function call(api: string, method: string, path: string, body?: unknown, token: string | null = TOKEN) {
  const res = await fetch(`${api}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body === undefined || method === 'GET' ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any };
}

test('401 with a JSON body without or with a wrong token, on every endpoint', async (t) => {
  const { api } = await startTestServer(t);
  for (const [m, p] of [
    ['GET', '/api/domains'],
    ['POST', '/api/domains'],
    ['PUT', '/api/domains/x.example/security'],
    ['DELETE', '/api/users/a@b.example'],
  ]) {
    for (const token of [null, 'wrong']) {
      const r = await call(api, m!, p!, {}, token);
      assert.equal(r.status, 401, `${m} ${p}`);
      assert.equal(r.body.error, 'unauthorized');
    }
  }
});

test('bad JSON and wrong types or values: 400 naming each bad field; nothing is half-applied', async (t) => {
  const { api, app } = await startTestServer(t);
  assert.equal((await call(api, 'POST', '/api/domains', { name: 'example.com' })).status, 201);
  const before = JSON.stringify(app.repos.domains.get('example.com'));

  const broken = await call(api, 'PUT', '/api/domains/example.com/security', '{"spam": {"reject_score": 12,');
  assert.equal(broken.status, 400);
  assert.equal(broken.body.error, 'invalid_json');

  const mixed = await call(api, 'PUT', '/api/domains/example.com/security', {
    spam: { reject_score: 12, quarantine_score: 'high' },
    greylist: { delay_minutes: -5, bogus: true },
    dkim: { key_size: 3000 },
    rate_limit: { smtp_per_ip: { count: 0 } },
    unknown_section: {},
  });
  assert.equal(mixed.status, 400);
  assert.deepEqual(mixed.body.fields.map((f: any) => f.field).sort(), [
    'dkim.key_size',
    'greylist.bogus',
    'greylist.delay_minutes',
    'rate_limit.smtp_per_ip.count',
    'spam.quarantine_score',
    'unknown_section',
  ]);
  assert.equal(
    JSON.stringify(app.repos.domains.get('example.com')),
    before,
    'the valid reject_score was not applied either',
  );

  const flat = await call(api, 'PUT', '/api/domains/example.com', {
    spam_reject_score: 'x',
    ratelimit_smtp_per_ip: '{"count":',
    max_users: 5,
    no_such_column: 1,
  });
  assert.equal(flat.status, 400);
  assert.deepEqual(flat.body.fields.map((f: any) => f.field).sort(), [
    'no_such_column',
    'ratelimit_smtp_per_ip',
    'spam_reject_score',
  ]);
  assert.equal(app.repos.domains.get('example.com')?.max_users, 0);

  const post = await call(api, 'POST', '/api/domains', {
    name: 42,
    use_default_template: 'yes',
    domain: { max_users: -1 },
  });
  assert.equal(post.status, 400);
  assert.deepEqual(post.body.fields.map((f: any) => f.field).sort(), [
    'domain.max_users',
    'name',
    'use_default_template',
  ]);
  const badName = await call(api, 'POST', '/api/domains', { name: 'not a domain' });
  assert.deepEqual([badName.status, badName.body.fields[0].field], [400, 'name']);
  assert.equal(app.repos.domains.count(), 1);
});

test('unknown domain 404, duplicate 409, refusing to delete a domain with users 409', async (t) => {
  const { api } = await startTestServer(t);
  for (const [m, p, b] of [
    ['GET', '/api/domains/missing.example', undefined],
    ['PUT', '/api/domains/missing.example', { max_users: 1 }],
    ['GET', '/api/domains/missing.example/security', undefined],
    ['PUT', '/api/domains/missing.example/security', { spam: { enabled: false } }],
    ['DELETE', '/api/domains/missing.example', undefined],
    ['POST', '/api/users', { email: 'a@missing.example', password: 'long enough' }],
    ['GET', '/api/users/a@missing.example', undefined],
    ['GET', '/api/aliases/x@missing.example', undefined],
  ] as const) {
    const r = await call(api, m, p, b);
    assert.equal(r.status, 404, `${m} ${p}`);
    assert.equal(r.body.error, 'not_found');
  }
  await call(api, 'POST', '/api/domains', { name: 'example.com' });
  const dup = await call(api, 'POST', '/api/domains', { name: 'EXAMPLE.com' });
  assert.deepEqual([dup.status, dup.body.error], [409, 'conflict']);
  assert.equal(
    (await call(api, 'POST', '/api/users', { email: 'a@example.com', password: 'long enough' })).status,
    201,
  );
  assert.equal(
    (await call(api, 'POST', '/api/users', { email: 'A@example.com', password: 'long enough' })).status,
    409,
  );
  const del = await call(api, 'DELETE', '/api/domains/example.com');
  assert.equal(del.status, 409);
  assert.match(del.body.message, /still has 1 user/);
  assert.equal((await call(api, 'DELETE', '/api/domains/example.com?force=true')).status, 200);
  assert.equal((await call(api, 'GET', '/api/users/a@example.com')).status, 404);
});

test('users and aliases: create, read, update (password, quota, status), delete; field errors', async (t) => {
  const { api, app } = await startTestServer(t);
  await call(api, 'POST', '/api/domains', { name: 'example.com' });
  const bad = await call(api, 'POST', '/api/users', {
    email: 'a@example.com',
    password: 'short',
    quota: 'lots',
    color: 'red',
  });
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.fields.map((f: any) => f.field).sort(), ['color', 'quota']);
  const weak = await call(api, 'POST', '/api/users', { email: 'a@example.com', password: 'short' });
  assert.deepEqual(weak.body.fields, [{ field: 'password', message: 'must be at least 10 characters' }]);
  const created = await call(api, 'POST', '/api/users', {
    email: 'a@example.com',
    password: 'long enough',
    quota: 1000,
    full_name: 'A',
  });
  assert.equal(created.status, 201);
  assert.equal(created.body.password_hash, undefined);
  assert.deepEqual(
    [created.body.email, created.body.quota, created.body.full_name, created.body.status],
    ['a@example.com', 1000, 'A', 'active'],
  );
  const upd = await call(api, 'PUT', '/api/users/a@example.com', {
    quota: 2000,
    status: 'disabled',
    password: 'another long one',
  });
  assert.deepEqual([upd.status, upd.body.quota, upd.body.status], [200, 2000, 'disabled']);
  const { verifyPassword } = await import('../../src/auth/passwords.ts');
  assert.ok(await verifyPassword('another long one', app.repos.users.get('a@example.com')!.password_hash));
  const list = await call(api, 'GET', '/api/users?domain=example.com');
  assert.equal(list.body.length, 1);
  const alias = await call(api, 'POST', '/api/aliases', {
    address: 'sales@example.com',
    destinations: ['a@example.com'],
  });
  assert.equal(alias.status, 201);
  const aliasBad = await call(api, 'POST', '/api/aliases', { address: 'x@example.com', destinations: 'a@example.com' });
  assert.deepEqual(
    aliasBad.body.fields.map((f: any) => f.field),
    ['destinations'],
  );
  assert.deepEqual((await call(api, 'GET', '/api/aliases/sales@example.com')).body.destinations, ['a@example.com']);
  assert.equal((await call(api, 'DELETE', '/api/aliases/sales@example.com')).status, 200);
  assert.equal((await call(api, 'DELETE', '/api/users/a@example.com')).status, 200);
  assert.equal((await call(api, 'GET', '/api/users')).body.length, 0);
});

test('GET/PUT /security round-trips; _default is addressable; OpenAPI document describes every route', async (t) => {
  const { api } = await startTestServer(t);
  const tpl = await call(api, 'GET', '/api/domains/_default/security');
  assert.equal(tpl.status, 200);
  assert.deepEqual(Object.keys(tpl.body), ['dkim', 'spf', 'dmarc', 'clamav', 'spam', 'greylist', 'rate_limit', 'auth']);
  assert.deepEqual(tpl.body.rate_limit.smtp_per_ip, { count: 100, window_minutes: 60 });
  assert.equal(tpl.body.spf.fail_action, 'reject');
  const put = await call(api, 'PUT', '/api/domains/_default/security', tpl.body);
  assert.equal(put.status, 200, JSON.stringify(put.body));
  const partial = await call(api, 'PUT', '/api/domains/_default/security', {
    rate_limit: { smtp_per_ip: { count: 7 } },
  });
  assert.deepEqual(partial.body.rate_limit.smtp_per_ip, { count: 7, window_minutes: 60 });
  const flat = await call(api, 'GET', '/api/domains/_default');
  assert.equal(flat.body.ratelimit_smtp_per_ip, '{"count":7,"window_minutes":60}');
  assert.equal(flat.body.dkim_private_key, undefined);
  const doc = await fetch(`${api}/api/openapi.json`).then((r) => r.json() as Promise<any>);
  assert.equal(doc.openapi, '3.1.0');
  for (const p of [
    '/api/domains',
    '/api/domains/{name}',
    '/api/domains/{name}/security',
    '/api/users',
    '/api/users/{email}',
    '/api/aliases',
  ])
    assert.ok(doc.paths[p], p);
  assert.ok(doc.paths['/api/domains/{name}/security'].put.requestBody);
  assert.ok(doc.components.schemas.DomainSecurity.properties.spam.properties.reject_score);
  const wrongMethod = await call(api, 'PATCH', '/api/domains/_default', {});
  assert.equal(wrongMethod.status, 405);
});
