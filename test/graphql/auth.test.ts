import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gql, ok, wsClient, wsSubscribe } from '../helpers/graphql.ts';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { startTestServer } from '../helpers/server.ts';

test('no token, a malformed header or a wrong token: HTTP 401 with a GraphQL error coded UNAUTHENTICATED', async (t) => {
  const { api } = await startTestServer(t);
  for (const token of [null, 'wrong-token']) {
    const r = await gql(api, '{ domains { totalCount } }', undefined, token);
    assert.equal(r.status, 401);
    assert.equal(r.data, undefined);
    assert.equal(r.errors?.[0]?.extensions?.code, 'UNAUTHENTICATED');
  }
  const res = await fetch(`${api}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Basic dGVzdA==' },
    body: JSON.stringify({ query: '{ domains { totalCount } }' }),
  });
  assert.equal(res.status, 401);
  assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/);
  const ok = await gql(api, '{ domains { totalCount } }');
  assert.equal(ok.status, 200);
  assert.deepEqual(ok.data, { domains: { totalCount: 0 } });
});

const LOGIN = (extra = '') => ({
  query: `mutation($e: String!, $p: String!) { login(email: $e, password: $p) {
    __typename ... on Login { token user { email } } ... on AuthenticationError { message } } ${extra} }`,
  variables: { e: 'ann@example.com', p: TEST_PASSWORD },
});

async function post(api: string, body: string | ReadableStream, headers: Record<string, string> = {}) {
  const res = await fetch(`${api}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    ...(typeof body === 'string' ? {} : { duplex: 'half' }),
  } as RequestInit);
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

test('without a token only a login-only operation runs (as nobody); anything else is 401; a large body is 413', async (t) => {
  const { api, app } = await startTestServer(t);
  await ok(api, 'mutation { createDomain(name: "example.com") { __typename } }');
  await app.services.accounts.createUser('t', 'ann@example.com', TEST_PASSWORD);

  const good = await post(api, JSON.stringify(LOGIN()));
  assert.equal(good.status, 200);
  assert.equal(good.body.data.login.__typename, 'Login');
  assert.equal(good.body.data.login.user.email, 'ann@example.com', 'login grants reading its own user');
  const token = good.body.data.login.token as string;
  assert.match(token, /^mys_/);
  assert.equal((await gql(api, '{ me { user { email } } }', undefined, token)).data.me.user.email, 'ann@example.com');
  // With __typename beside it, under an operation name, or with a stale token in the header: still a login.
  assert.equal((await post(api, JSON.stringify(LOGIN('__typename')))).status, 200);
  const named = LOGIN();
  assert.equal(
    (
      await post(
        api,
        JSON.stringify({ ...named, query: named.query.replace('mutation(', 'mutation In('), operationName: 'In' }),
      )
    ).status,
    200,
  );
  assert.equal((await post(api, JSON.stringify(LOGIN()), { authorization: 'Bearer mys_expired' })).status, 200);
  // Anything more than login: refused before it runs.
  const refused = [
    JSON.stringify(LOGIN('createDomain(name: "evil.example") { __typename }')),
    JSON.stringify({ query: '{ __typename }' }),
    JSON.stringify({ query: '{ domains { totalCount } }' }),
    JSON.stringify({
      query: 'mutation { ...F } fragment F on Mutation { createDomain(name: "evil.example") { __typename } }',
    }),
    JSON.stringify({
      ...LOGIN(),
      query: `${LOGIN().query} query Other { domains { totalCount } }`,
      operationName: 'Other',
    }),
    JSON.stringify([LOGIN()]),
    'not json',
  ];
  for (const body of refused) {
    const r = await post(api, body);
    assert.equal(r.status, 401, body);
    assert.equal(r.body.errors[0].extensions.code, 'UNAUTHENTICATED');
  }
  const get = await fetch(`${api}/graphql?query=${encodeURIComponent(LOGIN().query)}`);
  assert.equal(get.status, 401);
  assert.equal(app.repos.domains.get('evil.example'), undefined);

  // Nested fields of the login answer still need scopes: the user's domain is not the user's to read.
  const nested = await post(
    api,
    JSON.stringify({
      ...LOGIN(),
      query: LOGIN().query.replace('user { email }', 'user { email domain { name users { totalCount } } }'),
    }),
  );
  assert.equal(nested.body.errors[0].extensions.code, 'FORBIDDEN');

  // 16 KiB at most, whether the length is declared or streamed.
  const big = JSON.stringify({ ...LOGIN(), variables: { e: 'ann@example.com', p: 'x'.repeat(17 * 1024) } });
  const tooLarge = await post(api, big);
  assert.equal(tooLarge.status, 413);
  assert.equal(tooLarge.body.errors[0].extensions.code, 'PAYLOAD_TOO_LARGE');
  const stream = new ReadableStream({
    start(c) {
      for (let i = 0; i < 5; i++) c.enqueue(new TextEncoder().encode(' '.repeat(4096)));
      c.enqueue(new TextEncoder().encode(JSON.stringify(LOGIN())));
      c.close();
    },
  });
  assert.equal((await post(api, stream)).status, 413);
  // Under the limit (padding included) it is read and runs.
  const padded = `${' '.repeat(12 * 1024)}${JSON.stringify(LOGIN())}`;
  assert.equal((await post(api, padded)).body.data.login.__typename, 'Login');
});

test('API tokens stored in the database authenticate; revoked ones do not; the actor is audited', async (t) => {
  const { api, app } = await startTestServer(t);
  const { token, row } = app.repos.apiTokens.create('terraform');
  const r = await gql(api, 'mutation { createDomain(name: "iac.example") { __typename } }', undefined, token);
  assert.equal(r.data.createDomain.__typename, 'Domain');
  assert.equal(app.repos.audit.list()[0]?.actor, 'api-token:terraform');
  app.repos.apiTokens.revoke(row.id);
  assert.equal((await gql(api, '{ domains { totalCount } }', undefined, token)).status, 401);
});

test('graphql-ws: connection_init without a valid token is closed with 4401; with one, operations run', async (t) => {
  const { api } = await startTestServer(t);
  for (const token of [null, 'nope']) {
    const client = wsClient(api, token);
    const sub = wsSubscribe(client, 'subscription { configChanged { domain } }');
    const r = await sub.next();
    assert.equal((r.error as { code?: number })?.code, 4401, `token ${token}`);
    await client.dispose();
  }
  const client = wsClient(api);
  t.after(() => client.dispose());
  const r = await new Promise<any>((resolve, reject) =>
    client.subscribe({ query: '{ domains { totalCount } }' }, { next: resolve, error: reject, complete: () => {} }),
  );
  assert.deepEqual(r.data, { domains: { totalCount: 0 } });
});

test('GraphiQL is served without a token (operations from it still need one) and can be switched off', async (t) => {
  const { api } = await startTestServer(t);
  const page = await fetch(`${api}/graphql`, { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /GraphiQL/i);
  const off = await startTestServer(t, { api: { graphiql: false } });
  const none = await fetch(`${off.api}/graphql`, { headers: { accept: 'text/html' } });
  assert.notEqual(none.status, 200);
});
