// The spamd client against a real spamd (Debian's rules, local tests only) and, for silence, slowness, odd replies
// and byte counting, against fake daemons on loopback.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { test } from 'node:test';
import { createSpamd, parseSymbolsReply } from '../../src/policy/spamd.ts';
import { readSpamc, startFakeDaemon } from '../helpers/fakeDaemon.ts';
import { cleanMessage, gtubeMessage, writeMessage } from '../helpers/scanMessages.ts';
import { sharedSpamd, startSpamd } from '../helpers/spamd.ts';
import { tmpDir } from '../helpers/tmp.ts';

const spamd = sharedSpamd();

test('GTUBE is spam with a score of 1000 or more; a plain message is ham', async (t) => {
  const d = await spamd(t);
  if (!d) return;
  const dir = tmpDir(t);
  const c = createSpamd({ host: d.host, port: d.port, timeoutMs: 20_000, maxConnections: 2 });
  const spam = await c.checkFile(writeMessage(dir, 'gtube.eml', gtubeMessage()));
  assert.equal(spam.status, 'ok', JSON.stringify(spam));
  if (spam.status !== 'ok') return;
  assert.equal(spam.isSpam, true);
  assert.ok(spam.score >= 1000, `score ${spam.score}`);
  assert.equal(spam.threshold, 5);
  assert.ok(spam.symbols.includes('GTUBE'), spam.symbols.join(','));
  const ham = await c.checkFile(writeMessage(dir, 'ham.eml', cleanMessage()), { user: 'bob' });
  assert.equal(ham.status, 'ok', JSON.stringify(ham));
  if (ham.status !== 'ok') return;
  assert.equal(ham.isSpam, false);
  assert.ok(ham.score < 2, `score ${ham.score} (${ham.symbols})`);
  assert.ok(!ham.symbols.includes('GTUBE'));
  t.diagnostic(`spam: ${spam.score} ${spam.symbols}; ham: ${ham.score} ${ham.symbols}`);
});

test('the request: Content-length is the file size, the body is the file, User is passed on', async (t) => {
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'big.eml', `${cleanMessage()}${'x'.repeat(76)}\r\n`.repeat(3000));
  const seen: { head: string[]; body: Buffer }[] = [];
  const fake = await startFakeDaemon(t, (sock) =>
    readSpamc(sock, (head, body) => {
      seen.push({ head, body });
      sock.end('SPAMD/1.1 0 EX_OK\r\nContent-length: 7\r\nSpam: False ; 1.5 / 5.0\r\n\r\nA_1,B_2');
    }),
  );
  const c = createSpamd({ host: '127.0.0.1', port: fake.port, timeoutMs: 5000, maxConnections: 1 });
  assert.deepEqual(await c.checkFile(path, { user: 'bob@example.test' }), {
    status: 'ok',
    score: 1.5,
    threshold: 5,
    isSpam: false,
    symbols: ['A_1', 'B_2'],
  });
  const size = statSync(path).size;
  assert.ok(size > 500_000);
  assert.deepEqual(seen[0]!.head, ['SYMBOLS SPAMC/1.5', `Content-length: ${size}`, 'User: bob@example.test']);
  assert.deepEqual(seen[0]!.body, readFileSync(path), 'the body is the file, byte for byte');
  const bad = await c.checkFile(path, { user: 'bob\r\nX: y' });
  assert.equal(bad.status, 'error');
  assert.equal(seen.length, 1, 'a user name with CRLF is never sent');
});

test('replies: a refusal and every malformed reply are errors saying what was wrong', () => {
  const r = (s: string) => parseSymbolsReply(Buffer.from(s, 'latin1'));
  assert.deepEqual(r('SPAMD/1.1 0 EX_OK\r\nSpam: Yes ; -0.5 / 5.0\r\n\r\n'), {
    status: 'ok',
    score: -0.5,
    threshold: 5,
    isSpam: true,
    symbols: [],
  });
  const cases: [string, RegExp][] = [
    ['SPAMD/1.0 76 Bad header line: x\r\n\r\n', /^spamd refused: 76 Bad header line: x$/],
    ['HTTP/1.1 200 OK\r\n\r\n', /not a SPAMD status line/],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; 3 / 5\r\n', /no blank line/],
    ['SPAMD/1.1 0 EX_OK\r\nContent-length: 3\r\n\r\nA,B', /no Spam header/],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: Maybe ; 3 / 5\r\n\r\n', /malformed Spam header/],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; 3 / 5\r\nContent-length: 9\r\n\r\nA', /Content-length 9 but 1/],
    ['SPAMD/1.1 0 EX_OK\r\nSpam: True ; 3 / 5\r\n\r\nGOOD,BAD\r\nX-Evil: 1', /unexpected rule name/],
    ['SPAMD/1.1 0 EX_OK\r\nnonsense\r\n\r\n', /malformed header line/],
  ];
  for (const [reply, why] of cases) {
    const got = r(reply);
    assert.equal(got.status, 'error', reply);
    assert.match((got as { error: string }).error, why, reply);
  }
});

test('spamd stopped: an error at once; a missing file: an error', async (t) => {
  const d = await startSpamd(t);
  if (!d) return;
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'm.eml', cleanMessage());
  const c = createSpamd({ host: d.host, port: d.port, timeoutMs: 20_000, maxConnections: 1 });
  assert.equal((await c.checkFile(path)).status, 'ok', 'running');
  await d.stop();
  const started = performance.now();
  const r = await c.checkFile(path);
  const ms = performance.now() - started;
  assert.deepEqual(r, { status: 'error', error: `cannot connect to 127.0.0.1:${d.port}: ECONNREFUSED` });
  assert.ok(ms < 500, `${ms.toFixed(0)} ms with a 20 s timeout`);
  const missing = await c.checkFile(`${dir}/nope.eml`);
  assert.match((missing as { error: string }).error, /^cannot read the message: ENOENT/);
});

test('a daemon that never answers: timeout after timeoutMs, the wait for a connection included', async (t) => {
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'm.eml', cleanMessage());
  const fake = await startFakeDaemon(t, (sock) => sock.resume()); // accepts, reads, never answers
  const c = createSpamd({ host: '127.0.0.1', port: fake.port, timeoutMs: 300, maxConnections: 1 });
  const started = performance.now();
  const results = await Promise.all([c.checkFile(path), c.checkFile(path)]);
  const ms = performance.now() - started;
  assert.deepEqual(results, Array(2).fill({ status: 'error', error: 'timeout' }));
  assert.ok(
    ms >= 290 && ms < 580,
    `both gave up after ${ms.toFixed(0)} ms: the queued one within the same 300 ms, not 300 ms after a wait`,
  );
  // Timers started in one tick may still expire a millisecond apart, so a queued call can get the slot with a
  // moment left and connect; never two at once.
  assert.equal(fake.maxBusy, 1);
});

test('at most maxConnections checks at once; the rest queue and all complete', async (t) => {
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'm.eml', cleanMessage());
  const fake = await startFakeDaemon(t, (sock) =>
    readSpamc(sock, () =>
      setTimeout(() => sock.end('SPAMD/1.1 0 EX_OK\r\nSpam: False ; 0.1 / 5.0\r\n\r\nNO_RELAYS'), 60),
    ),
  );
  for (const n of [1, 2, 4]) {
    const before = fake.accepted;
    const c = createSpamd({ host: '127.0.0.1', port: fake.port, timeoutMs: 10_000, maxConnections: n });
    const results = await Promise.all(Array.from({ length: n * 3 }, () => c.checkFile(path)));
    assert.ok(
      results.every((r) => r.status === 'ok' && r.symbols[0] === 'NO_RELAYS'),
      JSON.stringify(results),
    );
    assert.equal(fake.accepted - before, n * 3);
    assert.equal(fake.maxBusy, n, `at most ${n} busy at once, and that many were`);
  }
});

test('latency against the real spamd, sequential and 4 at once (reported)', async (t) => {
  const d = await spamd(t);
  if (!d) return;
  const dir = tmpDir(t);
  const path = writeMessage(dir, 'ham.eml', cleanMessage());
  const c = createSpamd({ host: d.host, port: d.port, timeoutMs: 20_000, maxConnections: 4 });
  const n = 12;
  let started = performance.now();
  for (let i = 0; i < n; i++) assert.equal((await c.checkFile(path)).status, 'ok');
  const seq = (performance.now() - started) / n;
  started = performance.now();
  const all = await Promise.all(Array.from({ length: n }, () => c.checkFile(path)));
  const par = (performance.now() - started) / n;
  assert.ok(all.every((r) => r.status === 'ok'));
  const scantimes = [...d.log().matchAll(/result: .* scantime=([\d.]+)/g)].map((m) => Number(m[1]));
  const mean = (scantimes.reduce((a, b) => a + b, 0) / scantimes.length) * 1000;
  t.diagnostic(`spamd's own scantime: ${mean.toFixed(0)} ms on average over ${scantimes.length} checks`);
  t.diagnostic(`${seq.toFixed(1)} ms per check sequentially, ${par.toFixed(1)} ms with 4 at once (--max-children=2)`);
});
