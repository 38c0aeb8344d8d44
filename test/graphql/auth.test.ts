import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gql, wsClient, wsSubscribe } from '../helpers/graphql.ts';
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
