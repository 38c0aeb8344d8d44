import assert from 'node:assert/strict';
import { test } from 'node:test';
import { closeDatabase } from '../../src/db/client.ts';
import { startTestServer } from '../helpers/server.ts';

test('GET /health needs no auth and reports version, uptime, database and every listener', async (t) => {
  const { api, ports } = await startTestServer(t);
  const res = await fetch(`${api}/health`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /application\/json/);
  const body = (await res.json()) as Record<string, any>;
  assert.equal(body.status, 'ok');
  assert.match(body.version, /^\d+\.\d+\.\d+/);
  assert.equal(typeof body.uptime_seconds, 'number');
  assert.deepEqual(body.database, { status: 'ok', journal_mode: 'wal' });
  assert.deepEqual(Object.keys(body.listeners).sort(), [
    'api',
    'imap',
    'imaps',
    'smtp_relay',
    'smtp_submission',
    'smtps',
  ]);
  assert.deepEqual(body.listeners.smtp_relay, { port: ports.relay, address: '127.0.0.1', state: 'listening' });
  assert.equal(body.tls.source, 'self-signed');
  assert.equal(body.graphql, 'ready');
});

test('GET /health answers 503 when the database is not usable', async (t) => {
  const { api, app } = await startTestServer(t);
  closeDatabase(app.db);
  const res = await fetch(`${api}/health`);
  assert.equal(res.status, 503);
  const body = (await res.json()) as Record<string, any>;
  assert.equal(body.status, 'unavailable');
  assert.equal(body.database.status, 'error');
  assert.match(body.database.error, /not open/);
});

test('unknown paths get a JSON 404 and wrong methods a 405', async (t) => {
  const { api } = await startTestServer(t);
  const a = await fetch(`${api}/nope`);
  assert.equal(a.status, 404);
  assert.deepEqual(await a.json(), { error: 'not found' });
  const b = await fetch(`${api}/health`, { method: 'DELETE' });
  assert.equal(b.status, 405);
});
