// The clamd client against a real clamd (EICAR test signatures only) and, for silence, slowness and byte counting,
// against fake daemons on loopback.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { createClamd } from '../../src/policy/clamd.ts';
import { EICAR, EICAR_SIGNATURES, sharedClamd, startClamd } from '../helpers/clamd.ts';
import { readInstream, startFakeDaemon } from '../helpers/fakeDaemon.ts';
import { cleanMessage, eicarMessage, writeMessage } from '../helpers/scanMessages.ts';
import { tmpDir } from '../helpers/tmp.ts';

const clamd = sharedClamd();
const MB = 1024 * 1024;

test('an EICAR attachment is found, over the Unix socket and over TCP, and a clean message is clean', async (t) => {
  const d = await clamd(t);
  if (!d) return;
  const dir = tmpDir(t);
  const virus = writeMessage(dir, 'virus.eml', eicarMessage().text);
  const clean = writeMessage(dir, 'clean.eml', cleanMessage());
  for (const address of [d.socket, d.tcp]) {
    const c = createClamd({ address, timeoutMs: 10_000, maxConnections: 2 });
    assert.equal('path' in c.address, address === d.socket, `${address} is read as the right kind of address`);
    const found = await c.scanFile(virus, 10 * MB);
    assert.equal(found.status, 'virus', `${address}: ${JSON.stringify(found)}`);
    assert.ok(found.status === 'virus' && EICAR_SIGNATURES.includes(found.signature), JSON.stringify(found));
    assert.deepEqual(await c.scanFile(clean, 10 * MB), { status: 'clean' });
    assert.equal(await c.ping(), true);
  }
});

test('only the first maxBytes bytes are scanned: EICAR after them is not seen, within them it is', async (t) => {
  const d = await clamd(t);
  if (!d) return;
  const dir = tmpDir(t);
  const { text, attachmentAt } = eicarMessage(5000); // ~300 KB of filler before the attachment
  const path = writeMessage(dir, 'late.eml', text);
  assert.ok(attachmentAt > 250_000, `attachment at ${attachmentAt}`);
  const c = createClamd({ address: d.socket, timeoutMs: 10_000, maxConnections: 1 });
  assert.deepEqual(await c.scanFile(path, attachmentAt), { status: 'clean' }, 'cut before the attachment');
  assert.equal((await c.scanFile(path, statSync(path).size)).status, 'virus', 'the whole message');
  // The raw test file behind 200,000 bytes of text: found at any offset, unless the cut falls before it.
  const raw = writeMessage(dir, 'raw.bin', Buffer.concat([Buffer.alloc(200_000, 'a'), Buffer.from(EICAR)]));
  assert.deepEqual(await c.scanFile(raw, 200_000), { status: 'clean' });
  assert.equal((await c.scanFile(raw, 200_000 + EICAR.length)).status, 'virus');
});

test('the stream is sent in length-prefixed chunks, exactly maxBytes of the file and no more', async (t) => {
  const dir = tmpDir(t);
  const body = Buffer.alloc(300_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7) % 251;
  const path = writeMessage(dir, 'big.eml', body);
  const seen: { chunks: number[]; data: Buffer }[] = [];
  const fake = await startFakeDaemon(t, (sock) =>
    readInstream(sock, (chunks, data) => {
      seen.push({ chunks, data });
      sock.end('stream: OK\0');
    }),
  );
  const c = createClamd({ address: fake.address, timeoutMs: 5000, maxConnections: 1 });
  for (const max of [1, 65_536, 200_001, 10 * MB]) assert.deepEqual(await c.scanFile(path, max), { status: 'clean' });
  assert.deepEqual(
    seen.map((s) => s.data.length),
    [1, 65_536, 200_001, 300_000],
  );
  for (const s of seen) {
    assert.deepEqual(s.data, body.subarray(0, s.data.length), 'the bytes are the file prefix');
    assert.ok(Math.max(...s.chunks) <= 65_536, `chunks ${s.chunks}`);
  }
  assert.equal(readFileSync(path).length, 300_000);
});

test('replies: FOUND, ERROR and nonsense are told apart', async (t) => {
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'm.eml', cleanMessage());
  const replies = ['stream: Some.Sig-1 FOUND\0', 'INSTREAM size limit exceeded. ERROR\0', 'hello\0'];
  let i = 0;
  const fake = await startFakeDaemon(t, (sock) => {
    const reply = replies[i++]!;
    readInstream(sock, () => sock.end(reply));
  });
  const c = createClamd({ address: fake.address, timeoutMs: 5000, maxConnections: 1 });
  assert.deepEqual(await c.scanFile(path, MB), { status: 'virus', signature: 'Some.Sig-1' });
  assert.deepEqual(await c.scanFile(path, MB), { status: 'error', error: 'clamd: INSTREAM size limit exceeded.' });
  assert.deepEqual(await c.scanFile(path, MB), { status: 'error', error: 'clamd sent an unexpected reply: "hello"' });
  const missing = await c.scanFile(`${dir}/nope.eml`, MB);
  assert.equal(missing.status, 'error');
  assert.match((missing as { error: string }).error, /^cannot read the message: ENOENT/);
});

test('a stopped clamd is an error at once, on both addresses, and ping says false', async (t) => {
  const d = await startClamd(t);
  if (!d) return;
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'm.eml', cleanMessage());
  const byUnix = createClamd({ address: d.socket, timeoutMs: 10_000, maxConnections: 1 });
  const byTcp = createClamd({ address: d.tcp, timeoutMs: 10_000, maxConnections: 1 });
  assert.deepEqual(await byUnix.scanFile(path, MB), { status: 'clean' }, 'running');
  await d.stop();
  for (const [c, code] of [
    [byUnix, 'ENOENT'],
    [byTcp, 'ECONNREFUSED'],
  ] as const) {
    const started = performance.now();
    const r = await c.scanFile(path, MB);
    const ms = performance.now() - started;
    assert.equal(r.status, 'error');
    assert.match((r as { error: string }).error, new RegExp(code));
    assert.ok(ms < 500, `${code} after ${ms.toFixed(0)} ms, timeout 10 s`);
    assert.equal(await c.ping(), false);
  }
});

test('a daemon that never answers: timeout after timeoutMs, the wait for a connection included', async (t) => {
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'm.eml', cleanMessage());
  const fake = await startFakeDaemon(t, (sock) => sock.resume()); // accepts, reads, never answers
  const c = createClamd({ address: fake.address, timeoutMs: 300, maxConnections: 1 });
  const started = performance.now();
  const results = await Promise.all([c.scanFile(path, MB), c.scanFile(path, MB), c.ping()]);
  const ms = performance.now() - started;
  assert.deepEqual(results, [{ status: 'error', error: 'timeout' }, { status: 'error', error: 'timeout' }, false]);
  assert.ok(
    ms >= 290 && ms < 580,
    `all three gave up after ${ms.toFixed(0)} ms: the queued ones within the same 300 ms, not 300 ms after a wait`,
  );
  // Timers started in one tick may still expire a millisecond apart, so a queued call can get the slot with a
  // moment left and connect; never two at once.
  assert.equal(fake.maxBusy, 1);
});

test('at most maxConnections scans at once; the rest queue and all complete', async (t) => {
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'm.eml', eicarMessage(100).text);
  const fake = await startFakeDaemon(t, (sock) =>
    readInstream(sock, () => setTimeout(() => sock.end('stream: OK\0'), 60)),
  );
  for (const n of [1, 3]) {
    const before = fake.accepted;
    const c = createClamd({ address: fake.address, timeoutMs: 10_000, maxConnections: n });
    const results = await Promise.all(Array.from({ length: n * 3 }, () => c.scanFile(path, MB)));
    assert.deepEqual(results, Array(n * 3).fill({ status: 'clean' }));
    assert.equal(fake.accepted - before, n * 3);
    assert.equal(fake.maxBusy, n, `at most ${n} busy at once, and that many were`);
  }
});

test('latency against the real clamd, sequential and 4 at once (reported)', async (t) => {
  const d = await clamd(t);
  if (!d) return;
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'virus.eml', eicarMessage(200).text);
  const c = createClamd({ address: d.socket, timeoutMs: 10_000, maxConnections: 4 });
  const n = 40;
  let started = performance.now();
  for (let i = 0; i < n; i++) assert.equal((await c.scanFile(path, MB)).status, 'virus');
  const seq = (performance.now() - started) / n;
  started = performance.now();
  const all = await Promise.all(Array.from({ length: n }, () => c.scanFile(path, MB)));
  const par = (performance.now() - started) / n;
  assert.ok(all.every((r) => r.status === 'virus'));
  t.diagnostic(
    `${statSync(path).size}-byte message: ${seq.toFixed(2)} ms per scan sequentially, ${par.toFixed(2)} ms with 4 at once`,
  );
});
