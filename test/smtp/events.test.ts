import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { ok, TOKEN, wsClient, wsSubscribe } from '../helpers/graphql.ts';
import { ehlo, message } from '../helpers/smtp.ts';
import { assertRelative, subscribed, waitUntil } from '../helpers/wait.ts';
import { mailServer } from './setup.ts';

test('mail sent over SMTP appears on the deliveryEvents subscription at once (relative to the transaction)', async (t) => {
  const { api, ports, app } = await mailServer(t);
  const client = wsClient(api);
  t.after(() => client.dispose());
  const before = app.bus.listenerCount('delivery');
  const sub = wsSubscribe(
    client,
    'subscription { deliveryEvents(filter: { domain: "example.com" }) { event { type user messageId sender } } }',
  );
  await subscribed(app.bus, 'delivery', before);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const body = message('watched');
  const mid = /Message-ID: (<[^>]+>)/.exec(body)![1];
  const began = performance.now();
  const r = await c.send('alice@remote.example', ['bob@example.com'], body);
  const sent = performance.now();
  assert.equal(r.data?.code, 250);
  const first = await sub.next(1000);
  const second = await sub.next(1000);
  const latency = performance.now() - sent;
  assert.deepEqual([first.data.deliveryEvents.event, second.data.deliveryEvents.event].map((e: any) => e.type).sort(), [
    'DELIVERED_LOCAL',
    'RECEIVED',
  ]);
  assert.ok([first, second].every((x: any) => x.data.deliveryEvents.event.messageId === mid));
  // The events are published during the transaction: after the 250 they take less than the transaction did.
  assertRelative(latency, sent - began, 'both events after the 250');
});

test('a subscriber that never reads does not slow SMTP delivery', async (t) => {
  const { api, ports, app } = await mailServer(t, { api: { subscription_buffer: 20 } });
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const timeBatch = async (n: number) => {
    const t0 = performance.now();
    for (let i = 0; i < n; i++)
      assert.equal((await c.send('a@remote.example', ['bob@example.com'], message(`m${i}`))).data?.code, 250);
    return performance.now() - t0;
  };
  const baseline = await timeBatch(40);
  const ws = new WebSocket(`${api.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  t.after(() => ws.terminate());
  await new Promise((r) => ws.once('open', r));
  const msgs: any[] = [];
  ws.on('message', (m) => msgs.push(JSON.parse(String(m))));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${TOKEN}` } }));
  await waitUntil(() => msgs.some((m) => m.type === 'connection_ack'), 'connection_ack');
  const listeners = app.bus.listenerCount('delivery');
  ws.send(
    JSON.stringify({
      id: '1',
      type: 'subscribe',
      payload: { query: 'subscription { deliveryEvents { droppedEvents event { id } } }' },
    }),
  );
  await subscribed(app.bus, 'delivery', listeners);
  (ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  const stuck = await timeBatch(40);
  t.diagnostic(`40 deliveries: ${baseline.toFixed(0)} ms without, ${stuck.toFixed(0)} ms with a stuck subscriber`);
  assert.ok(stuck < baseline * 3 + 500, `delivery slowed from ${baseline} to ${stuck} ms`);
});

test('hot reload end to end: a policy change through GraphQL applies to the very next SMTP transaction', async (t) => {
  const { api, ports } = await mailServer(t);
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  await c.cmd('MAIL FROM:<a@remote.example>');
  assert.equal((await c.cmd('RCPT TO:<anyone@example.com>')).code, 550);
  await ok(
    api,
    'mutation { updateDomain(name: "example.com", input: { catchallEmail: "carol@example.com" }) { __typename } }',
  );
  assert.equal((await c.cmd('RCPT TO:<anyone@example.com>')).code, 250, 'catch-all applies without a restart');
  await ok(api, 'mutation { updateDomain(name: "example.com", input: { status: DISABLED }) { __typename } }');
  assert.equal((await c.cmd('RCPT TO:<bob@example.com>')).code, 550, 'disabling applies at once');
});
