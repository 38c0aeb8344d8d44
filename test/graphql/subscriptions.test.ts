import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import type { NewDeliveryEvent } from '../../src/repos/deliveryEvents.ts';
import { ok, sseSubscribe, TOKEN, wsClient, wsSubscribe } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/server.ts';
import { assertRelative, subscribed, waitUntil } from '../helpers/wait.ts';

const event = (i: number, over: Partial<NewDeliveryEvent> = {}): NewDeliveryEvent => ({
  type: 'RECEIVED',
  messageId: `<m${i}@remote.example>`,
  queueId: `Q${i}`,
  sender: 'a@remote.example',
  recipients: ['bob@example.com'],
  domain: 'example.com',
  userEmail: 'bob@example.com',
  remoteIp: '192.0.2.7',
  reason: null,
  details: { size: 100 + i },
  ...over,
});

const SUB = `subscription($f: DeliveryEventFilter, $after: SafeInt) { deliveryEvents(filter: $f, afterId: $after) {
  droppedEvents event { id type messageId sender recipients domain user remoteIp reason details } } }`;

test('deliveryEvents over graphql-ws: live events at once (relative to a query round trip), with the filter applied', async (t) => {
  const { api, app } = await startTestServer(t);
  const client = wsClient(api);
  t.after(() => client.dispose());
  const before = app.bus.listenerCount('delivery');
  const sub = wsSubscribe(client, SUB, { f: { domain: 'example.com', types: ['REJECTED'] } });
  await subscribed(app.bus, 'delivery', before);
  // Baseline: one GraphQL round trip over HTTP on this machine now.
  const q0 = performance.now();
  await ok(api, '{ __typename }');
  const roundTrip = performance.now() - q0;
  app.repos.deliveryEvents.record(event(1, { type: 'RECEIVED' }));
  app.repos.deliveryEvents.record(event(2, { type: 'REJECTED', domain: 'other.example', reason: 'spam' }));
  const t0 = performance.now();
  app.repos.deliveryEvents.record(event(3, { type: 'REJECTED', reason: 'virus' }));
  const r = await sub.next();
  const latency = performance.now() - t0;
  assertRelative(latency, roundTrip, 'event latency (vs a query round trip)');
  assert.equal(r.data.deliveryEvents.droppedEvents, 0);
  const e = r.data.deliveryEvents.event;
  assert.equal(e.type, 'REJECTED');
  assert.equal(e.reason, 'virus');
  assert.equal(e.messageId, '<m3@remote.example>');
  assert.deepEqual(JSON.parse(e.details), { size: 103 });
  assert.equal(e.remoteIp, '192.0.2.7');
});

test('deliveryEvents over SSE, and configChanged over SSE when a policy changes', async (t) => {
  const { api, app } = await startTestServer(t);
  const deliveries = app.bus.listenerCount('delivery');
  const domains = app.bus.listenerCount('domain.changed');
  const ev = await sseSubscribe(api, SUB);
  t.after(() => ev.close());
  assert.match(ev.res.headers.get('content-type') ?? '', /text\/event-stream/);
  const cfg = await sseSubscribe(api, 'subscription { configChanged(domain: "cfg.example") { domain action fields } }');
  t.after(() => cfg.close());
  await subscribed(app.bus, 'delivery', deliveries);
  await subscribed(app.bus, 'domain.changed', domains);
  app.repos.deliveryEvents.record(event(1, { type: 'DELIVERED_LOCAL' }));
  const got = await ev.next();
  assert.equal(got.data.deliveryEvents.event.type, 'DELIVERED_LOCAL');
  await ok(api, 'mutation { createDomain(name: "cfg.example") { __typename } }');
  await ok(api, 'mutation { createDomain(name: "unrelated.example") { __typename } }');
  await ok(
    api,
    'mutation { updateDomainSecurity(name: "cfg.example", input: { antispam: { rejectScore: 9 } }) { __typename } }',
  );
  assert.deepEqual((await cfg.next()).data.configChanged.action, 'created');
  assert.deepEqual((await cfg.next()).data.configChanged, {
    domain: 'cfg.example',
    action: 'updated',
    fields: ['spam_reject_score'],
  });
});

test('backfill then subscribe with afterId: history after that id, then live events, no gap and no duplicate', async (t) => {
  const { api, app } = await startTestServer(t);
  for (let i = 1; i <= 5; i++) app.repos.deliveryEvents.record(event(i));
  const page = await ok(
    api,
    '{ deliveryEvents(first: 2) { pageInfo { endCursor hasNextPage } nodes { id messageId } } }',
  );
  assert.deepEqual(
    page.deliveryEvents.nodes.map((n: any) => n.messageId),
    ['<m1@remote.example>', '<m2@remote.example>'],
  );
  assert.equal(page.deliveryEvents.pageInfo.hasNextPage, true);
  const next = await ok(
    api,
    `{ deliveryEvents(first: 10, after: "${page.deliveryEvents.pageInfo.endCursor}") { nodes { id } } }`,
  );
  assert.equal(next.deliveryEvents.nodes.length, 3);
  const lastSeen = page.deliveryEvents.nodes[1].id;
  const client = wsClient(api);
  t.after(() => client.dispose());
  const sub = wsSubscribe(client, SUB, { after: lastSeen });
  const ids: number[] = [];
  for (let i = 0; i < 3; i++) ids.push((await sub.next()).data.deliveryEvents.event.id);
  app.repos.deliveryEvents.record(event(6));
  ids.push((await sub.next()).data.deliveryEvents.event.id);
  assert.deepEqual(ids, [lastSeen + 1, lastSeen + 2, lastSeen + 3, lastSeen + 4]);
});

test('a subscriber that never reads does not hold up publishers; it later learns exactly how many events it lost', async (t) => {
  const { api, app } = await startTestServer(t, { api: { subscription_buffer: 50 } });
  const ws = new WebSocket(`${api.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  t.after(() => ws.terminate());
  const messages: any[] = [];
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  ws.on('message', (m) => messages.push(JSON.parse(String(m))));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TOKEN}` } }));
  await waitUntil(() => messages.some((m) => m.type === 'connection_ack'), 'connection_ack');
  const listeners = app.bus.listenerCount('delivery');
  ws.send(
    JSON.stringify({
      id: '1',
      type: 'subscribe',
      payload: { query: 'subscription { deliveryEvents { droppedEvents event { id details } } }' },
    }),
  );
  await subscribed(app.bus, 'delivery', listeners);
  // Stop reading: the kernel buffers fill, ws.send stops completing, the subscriber's buffer overflows.
  (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();

  const N = 6000;
  const big = { blob: 'x'.repeat(2000) };
  const t0 = performance.now();
  for (let i = 0; i < N; i++) app.repos.deliveryEvents.record(event(i, { details: big }));
  const publishMs = performance.now() - t0;
  // Deliberately lets time pass while the server pushes into the stuck socket, then asks it something.
  await new Promise((r) => setTimeout(r, 300));
  const health = await fetch(`${api}/health`);
  assert.equal(health.status, 200, 'the server stays responsive');

  (ws as unknown as { _socket: import('node:net').Socket })._socket.resume();
  let delivered = 0;
  let dropped = 0;
  const count = () => {
    delivered = 0;
    dropped = 0;
    for (const m of messages)
      if (m.type === 'next') {
        if (m.payload.data.deliveryEvents.event) delivered++;
        dropped += m.payload.data.deliveryEvents.droppedEvents;
      }
    return delivered + dropped >= N;
  };
  await waitUntil(count, `${N} events delivered or counted as dropped`, {
    timeoutMs: 20_000,
    intervalMs: 50,
    detail: () => `delivered ${delivered}, dropped ${dropped}`,
  });
  t.diagnostic(
    `published ${N} events in ${publishMs.toFixed(0)} ms with a stuck subscriber; delivered ${delivered}, dropped ${dropped}`,
  );
  assert.ok(dropped > 0, 'the stuck subscriber lost events');
  assert.ok(delivered > 0);
  assert.equal(delivered + dropped, N, 'every event was either delivered or counted as dropped');
  assert.equal(app.repos.deliveryEvents.list({ limit: 100_000 }).length, N, 'all events stored');
});
