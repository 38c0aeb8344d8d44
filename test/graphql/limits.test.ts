import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { getIntrospectionQuery } from 'graphql';
import { printedSchema } from '../../src/graphql/schema.ts';
import { gql, TOKEN } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/server.ts';

test('a query deeper than api.max_depth is rejected before execution', async (t) => {
  const { api } = await startTestServer(t, { api: { max_depth: 6 } });
  const fine = await gql(api, '{ domains { nodes { users { nodes { domain { name } } } } } }');
  assert.equal(fine.errors, undefined);
  const deep = await gql(api, '{ domains { nodes { users { nodes { domain { users { nodes { email } } } } } } } }');
  assert.equal(deep.errors?.[0]?.extensions?.code, 'QUERY_TOO_DEEP');
  assert.match(deep.errors![0]!.message, /depth 8 exceeds the limit of 6/);
  const viaFragments = await gql(
    api,
    'query { domains { ...D } } fragment D on DomainConnection { nodes { users { nodes { domain { users { nodes { email } } } } } } }',
  );
  assert.equal(viaFragments.errors?.[0]?.extensions?.code, 'QUERY_TOO_DEEP');
});

test('an abusive query (nested pages multiplying) is rejected by the cost limit; introspection is not counted', async (t) => {
  const { api } = await startTestServer(t);
  const abusive = await gql(
    api,
    '{ domains(first: 100) { nodes { users(first: 100) { nodes { email mailboxes { name messageCount unseenCount } } } aliases(first: 100) { nodes { address } } } } }',
  );
  assert.equal(abusive.errors?.[0]?.extensions?.code, 'QUERY_TOO_COMPLEX');
  assert.ok((abusive.errors?.[0]?.extensions?.cost as number) > 20_000);
  const intro = await gql(api, getIntrospectionQuery());
  assert.equal(intro.errors, undefined, 'GraphiQL introspection passes the depth and cost limits');
});

test('introspection can be switched off; batching is bounded by api.max_batch', async (t) => {
  const { api } = await startTestServer(t, { api: { introspection: false, max_batch: 3 } });
  const intro = await gql(api, '{ __schema { types { name } } }');
  assert.match(intro.errors?.[0]?.message ?? '', /introspection/i);
  const batch = (n: number) =>
    fetch(`${api}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify(Array.from({ length: n }, () => ({ query: '{ domains { totalCount } }' }))),
    });
  const three = await batch(3);
  assert.equal(three.status, 200);
  assert.equal(((await three.json()) as unknown[]).length, 3);
  const four = await batch(4);
  assert.notEqual(four.status, 200);
  assert.match(JSON.stringify(await four.json()), /Batching is limited to 3 operations/);
});

test('schema/schema.graphql is current (regenerate with npm run schema:print)', () => {
  assert.equal(readFileSync(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'), printedSchema());
});

test('a database error never reaches a client raw', async (t) => {
  const { api, app } = await startTestServer(t);
  app.db.$client.exec('drop table audit_log');
  const r = await gql(api, 'mutation { createDomain(name: "boom.example") { __typename } }');
  assert.equal(r.errors?.[0]?.message, 'Unexpected error.');
  assert.equal(JSON.stringify(r).includes('audit_log'), false);
  assert.equal(JSON.stringify(r).includes('SQLITE'), false);
});
