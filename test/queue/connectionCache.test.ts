/**
 * The outbound connection cache (src/queue/connectionCache.ts) with real SMTP connections to a scripted peer on
 * loopback, which records the QUITs it receives: take/put by key, reuse after RSET, expiry after idleMs with QUIT,
 * the per-key limit, a connection the server closed while idle, closeAll.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createConnectionCache } from '../../src/queue/connectionCache.ts';
import { openSmtpConnection, type SmtpConnection } from '../../src/queue/smtpClient.ts';
import { type ScriptedPeer, startScriptedPeer } from '../helpers/scriptedSmtp.ts';
import { waitUntil } from '../helpers/wait.ts';

const open = (peer: ScriptedPeer): Promise<SmtpConnection> =>
  openSmtpConnection({
    host: '127.0.0.1',
    port: peer.port,
    mxName: 'peer.test',
    localName: 'client.mailyard.test',
    connectTimeoutMs: 2000,
    commandTimeoutMs: 2000,
    tls: 'none',
  });

const quits = (peer: ScriptedPeer) => peer.sessions.filter((s) => s.commands.includes('QUIT')).length;

test('put and take by key; the taken connection is reused after reset()', async (t) => {
  const peer = await startScriptedPeer(t);
  const cache = createConnectionCache({ idleMs: 10_000 });
  t.after(() => cache.closeAll());
  const key = `127.0.0.1:${peer.port}:none`;
  assert.equal(cache.take(key), null);
  const c = await open(peer);
  const r = await c.send({ from: 'a@sender.test', to: [{ address: 'b@peer.test' }] }, Buffer.from('x\n'));
  assert.equal(r.data?.code, 250);
  cache.put(key, c);
  assert.equal(cache.size, 1);
  assert.equal(cache.take('127.0.0.1:1:none'), null);
  const again = cache.take(key);
  assert.equal(again, c);
  assert.equal(cache.size, 0);
  assert.equal(cache.take(key), null);
  await again!.reset();
  const r2 = await again!.send({ from: 'a@sender.test', to: [{ address: 'b@peer.test' }] }, Buffer.from('y\n'));
  assert.equal(r2.data?.code, 250);
  assert.equal(peer.sessions.length, 1);
  assert.deepEqual(
    peer.sessions[0]!.commands.filter((x) => x === 'RSET'),
    ['RSET'],
  );
  cache.put(key, again!);
  await cache.closeAll();
  assert.equal(cache.size, 0);
  assert.equal(quits(peer), 1);
});

test('an idle connection is QUIT after idleMs and not handed out again', async (t) => {
  const peer = await startScriptedPeer(t);
  const cache = createConnectionCache({ idleMs: 150 });
  t.after(() => cache.closeAll());
  const c = await open(peer);
  const t0 = Date.now();
  cache.put('k', c);
  await waitUntil(() => quits(peer) === 1, 'the server to see QUIT', { timeoutMs: 3000 });
  assert.ok(Date.now() - t0 >= 140, `QUIT after ${Date.now() - t0} ms`);
  assert.equal(cache.size, 0);
  assert.equal(cache.take('k'), null);
  await waitUntil(() => peer.sessions[0]!.closed, 'the connection to close');
});

test('take() with the injected clock: an expired connection is QUIT instead of returned', async (t) => {
  const peer = await startScriptedPeer(t);
  let now = 1_000_000;
  const cache = createConnectionCache({ idleMs: 60_000, now: () => now });
  t.after(() => cache.closeAll());
  cache.put('k', await open(peer));
  now += 60_000;
  assert.equal(cache.take('k'), null);
  await waitUntil(() => quits(peer) === 1, 'QUIT');
});

test('more than maxIdlePerKey: the oldest is QUIT; a connection the server closed is skipped', async (t) => {
  const peer = await startScriptedPeer(t);
  const cache = createConnectionCache({ idleMs: 10_000, maxIdlePerKey: 2 });
  t.after(() => cache.closeAll());
  const [a, b, c] = [await open(peer), await open(peer), await open(peer)];
  cache.put('k', a);
  cache.put('k', b);
  cache.put('k', c);
  assert.equal(cache.size, 2);
  await waitUntil(() => peer.sessions[0]!.commands.includes('QUIT'), 'QUIT of the oldest');
  assert.equal(quits(peer), 1);
  // The server drops the newest one while it is idle: take() passes over it.
  peer.sessions[2]!.sock.destroy();
  await waitUntil(() => !c.usable, 'the client to see the close');
  assert.equal(cache.take('k'), b);
  assert.equal(cache.size, 0);
  b.close();
});

test('closeAll QUITs every idle connection of every key; unusable connections are not kept', async (t) => {
  const peer = await startScriptedPeer(t);
  const cache = createConnectionCache({ idleMs: 10_000 });
  const conns = await Promise.all([open(peer), open(peer), open(peer)]);
  cache.put('k1', conns[0]!);
  cache.put('k2', conns[1]!);
  cache.put('k2', conns[2]!);
  const dead = await open(peer);
  dead.close();
  cache.put('k3', dead);
  assert.equal(cache.size, 3);
  await cache.closeAll();
  assert.equal(cache.size, 0);
  assert.equal(quits(peer), 3);
  for (const c of conns) assert.equal(c.usable, false);
  assert.equal(cache.take('k2'), null);
});
