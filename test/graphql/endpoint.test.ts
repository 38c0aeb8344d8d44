import assert from 'node:assert/strict';
import { once } from 'node:events';
import { test } from 'node:test';
import pino from 'pino';
import WebSocket from 'ws';
import { deferredGraphQL } from '../../src/graphql/endpoint.ts';
import { createGraphQL } from '../../src/graphql/server.ts';
import { createHttpServer, sendJson } from '../../src/http/server.ts';
import { ok, wsClient, wsSubscribe } from '../helpers/graphql.ts';
import { startTestServer } from '../helpers/server.ts';
import { subscribed } from '../helpers/wait.ts';

const silent = pino({ level: 'silent' });

/** An API server whose GraphQL implementation arrives when the test says so (start-up's load, slowed down). */
async function deferredApi(t: { after(fn: () => unknown): void }, services: Parameters<typeof createGraphQL>[0]) {
  let finish!: (ok: boolean) => void;
  const loading = new Promise<ReturnType<typeof createGraphQL>>((resolve, reject) => {
    finish = (good) => (good ? resolve(createGraphQL(services, silent)) : reject(new Error('schema failed to load')));
  });
  loading.catch(() => {});
  const graphql = deferredGraphQL(loading);
  const http = createHttpServer(
    [{ path: '/health', handler: (_q, res) => sendJson(res, 200, { status: 'ok' }) }, graphql.route],
    silent,
  );
  const closeWs = graphql.attachWebSocket(http.server);
  await http.listen(0, '127.0.0.1');
  t.after(async () => {
    await closeWs();
    await http.close(0);
  });
  const { port } = http.server.address() as { port: number };
  return { api: `http://127.0.0.1:${port}`, finish, closeWs, server: http.server };
}

test('requests and WebSocket upgrades on /graphql made while GraphQL loads are served once it has loaded', async (t) => {
  const { app } = await startTestServer(t);
  const { api, finish } = await deferredApi(t, app.services);

  const query = ok(api, '{ domains { totalCount } }');
  const client = wsClient(api);
  t.after(() => client.dispose());
  const sub = wsSubscribe(client, 'subscription { configChanged { domain action } }');
  let answered = false;
  void query.then(() => (answered = true));

  const health = await fetch(`${api}/health`);
  assert.equal(health.status, 200, '/health does not wait for GraphQL');
  // Deliberately lets time pass: proves the query is still unanswered (nothing to wait for).
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(answered, false, 'the query waits for the load');

  const listeners = app.bus.listenerCount('domain.changed');
  finish(true);
  assert.equal((await query).domains.totalCount, 0);
  await subscribed(app.bus, 'domain.changed', listeners); // the subscription is registered
  await ok(api, 'mutation { createDomain(name: "late.example") { __typename } }');
  const ev = await sub.next();
  assert.equal(ev.data.configChanged.domain, 'late.example');
});

test('a GraphQL load that fails answers 500 and closes upgrades; other upgrade paths get 404', async (t) => {
  const { app } = await startTestServer(t);
  const { api, finish, server } = await deferredApi(t, app.services);
  const arrived = Promise.all([once(server, 'request'), once(server, 'upgrade')]);
  const pending = fetch(`${api}/graphql`, {
    method: 'POST',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  const ws = new WebSocket(`${api.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const wsEnd = new Promise<string>((resolve) => {
    ws.once('error', (e) => resolve(`error: ${e.message}`));
    ws.once('open', () => resolve('open'));
  });
  await arrived; // both are waiting for the load
  finish(false);
  assert.equal((await pending).status, 500);
  assert.match(await wsEnd, /^error: /);

  const other = new WebSocket(`${api.replace('http', 'ws')}/elsewhere`);
  const status = await new Promise<number>((resolve) =>
    other.once('unexpected-response', (_q, res) => resolve(res.statusCode!)),
  );
  assert.equal(status, 404);
});

test('closing the API before GraphQL has loaded does not wait for the load; a waiting upgrade is dropped', async (t) => {
  const { app } = await startTestServer(t);
  const { api, closeWs, server } = await deferredApi(t, app.services); // the load never finishes (start-up aborted)
  const upgrade = once(server, 'upgrade');
  const ws = new WebSocket(`${api.replace('http', 'ws')}/graphql`, 'graphql-transport-ws');
  const ended = new Promise<string>((resolve) => {
    ws.once('error', (e) => resolve(`error: ${e.message}`));
    ws.once('open', () => resolve('open'));
  });
  await upgrade; // the upgrade is waiting for the load
  // The 2 s is a deadline for a hang (the load never finishes), not a speed requirement.
  const closed = await Promise.race([
    closeWs().then(() => 'closed'),
    new Promise((r) => setTimeout(() => r('still waiting after 2 s'), 2000)),
  ]);
  assert.equal(closed, 'closed');
  assert.match(await ended, /^error: /);
});
