import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'graphql';
import { gql, wsClient, wsSubscribe } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/server.ts';
import { subscribed } from '../helpers/wait.ts';

const dir = new URL('../../examples/graphql/', import.meta.url);
const load = (name: string) => {
  const text = readFileSync(new URL(name, dir), 'utf8');
  const vars = /^# Variables: (\{.*\})$/m.exec(text);
  return { text, variables: vars ? JSON.parse(vars[1]!) : {} };
};

test('every operation in examples/graphql runs against a live server', async (t) => {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .sort();
  assert.ok(files.length >= 6);
  for (const f of files) parse(load(f).text);
  const { api, app } = await startTestServer(t);
  const run = async (name: string) => {
    const { text, variables } = load(name);
    const r = await gql(api, text, variables);
    assert.equal(r.errors, undefined, `${name}: ${JSON.stringify(r.errors)}`);
    return r.data;
  };
  const ran = new Set<string>();
  const client = wsClient(api);
  t.after(() => client.dispose());
  const listeners = { delivery: app.bus.listenerCount('delivery'), domain: app.bus.listenerCount('domain.changed') };
  const deliveries = wsSubscribe(client, load('watch-deliveries.graphql').text, {
    domain: 'example.com',
    afterId: null,
  });
  const config = wsSubscribe(client, load('watch-config.graphql').text, { domain: 'example.com' });
  ran.add('watch-deliveries.graphql').add('watch-config.graphql');
  await subscribed(app.bus, 'delivery', listeners.delivery);
  await subscribed(app.bus, 'domain.changed', listeners.domain);

  assert.equal((await run('create-domain.graphql')).createDomain.__typename, 'Domain');
  const tight = (await run('tighten-spam-policy.graphql')).updateDomainSecurity;
  assert.deepEqual(tight.antispam, { rejectScore: 8, quarantineScore: 4 });
  const user = (await run('add-user.graphql')).createUser;
  assert.equal(user.effectiveQuota, 2147483648);
  assert.equal((await run('list-domains.graphql')).domains.totalCount, 1);
  app.repos.deliveryEvents.record({
    type: 'DELIVERED_LOCAL',
    messageId: '<x@y>',
    queueId: 'Q1',
    sender: 'a@remote.example',
    recipients: ['alice@example.com'],
    domain: 'example.com',
    userEmail: 'alice@example.com',
    remoteIp: '192.0.2.1',
    reason: null,
    details: null,
  });
  assert.equal((await run('recent-deliveries.graphql')).deliveryEvents.nodes.length, 1);
  assert.deepEqual((await run('deferred-queue.graphql')).queue, { totalCount: 0, nodes: [] });
  for (const f of [
    'create-domain.graphql',
    'tighten-spam-policy.graphql',
    'add-user.graphql',
    'list-domains.graphql',
    'recent-deliveries.graphql',
    'deferred-queue.graphql',
  ])
    ran.add(f);
  assert.equal((await deliveries.next()).data.deliveryEvents.event.type, 'DELIVERED_LOCAL');
  assert.equal((await config.next()).data.configChanged.action, 'created');
  assert.deepEqual(
    files.filter((f) => !ran.has(f)),
    [],
    'every example file is exercised',
  );
});
