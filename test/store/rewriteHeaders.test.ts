import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createReadStream, readdirSync, readFileSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { mock, test } from 'node:test';
import { bareLineFeeds } from '../../src/store/crlf.ts';
import { StoreError } from '../../src/store/mailStore.ts';
import { FIELD_LIMIT, READ_CHUNK } from '../../src/store/rewrite.ts';
import { mailStoreFor } from '../helpers/mailStore.ts';

const RECEIVED = 'Received: from client by mx.example.com\r\n';
const AR = 'Authentication-Results: mx.example.com; spf=pass smtp.mailfrom=example.org';
/** The rule SMTP applies: an Authentication-Results naming our host is forged (RFC 8601 5). */
const forged = (name: string, value: string) =>
  name.toLowerCase() === 'authentication-results' && /^mx\.example\.com\s*(;|$)/i.test(value);

const message = (headers: string, body: string) => `${headers}\r\n${body}`;
// Starts with lines that look like a forged header field: the body is never filtered.
const BODY =
  'Authentication-Results: mx.example.com; dkim=pass\r\n (a body line that looks like a header)\r\n\r\nHello\r\n';

test('prepended lines come first, before the trace headers; the rest is byte-exact; size and headers follow', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const bob = user('bob');
  const original = message('From: a@example.org\r\nSubject: hi\r\nMessage-ID: <m1@example.org>\r\n', BODY);
  const spooled = await spool(bob, original);
  const before = readFileSync(spooled.path);
  const out = await mail.rewriteHeaders(spooled, { prepend: [AR, 'X-Spam-Score: 1.5'] });
  const after = readFileSync(out.path);
  const top = `${AR}\r\nX-Spam-Score: 1.5\r\n`;
  assert.equal(after.toString(), top + before.toString());
  assert.ok(after.subarray(top.length).equals(before), 'the old bytes follow, byte for byte');
  assert.equal(out.path, spooled.path, 'the same spool name, now holding the new file');
  assert.equal(out.unique, spooled.unique);
  assert.equal(out.size, after.length);
  assert.equal(out.size, spooled.size + Buffer.byteLength(top));
  assert.equal(out.bareLf, 0);
  assert.deepEqual(out.headers, spooled.headers, 'Message-ID, Subject, From, Date: the first of each, unchanged');
  assert.equal(out.headers.messageId, '<m1@example.org>');
  assert.deepEqual(readdirSync(dirname(out.path)), [out.unique], 'nothing else left in tmp/');
});

test('forged fields are dropped whole (folded ones too), others kept, the body untouched', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const bob = user('bob');
  const headers = [
    'Authentication-Results: MX.example.com;\r\n\tdkim=pass header.d=bank.example\r\n  (forged, folded)\r\n',
    'From: a@example.org\r\n',
    'Authentication-Results: relay.example.org; spf=pass\r\n',
    'authentication-results:mx.example.com\r\n',
    'Subject: =?UTF-8?Q?caf=C3=A9?=\r\n\tfolded\r\n',
    'X-Authentication-Results: mx.example.com; dkim=pass\r\n',
  ];
  const spooled = await spool(bob, message(headers.join(''), BODY));
  const out = await mail.rewriteHeaders(spooled, { prepend: [AR], drop: forged });
  assert.equal(
    readFileSync(out.path, 'latin1'),
    `${AR}\r\n${RECEIVED}${headers[1]}${headers[2]}${headers[4]}${headers[5]}\r\n${BODY}`,
  );
  assert.equal(out.size, statSync(out.path).size);
  assert.equal(out.headers.subject, 'café folded');
  // Dropping alone (nothing prepended) rewrites too.
  const again = await spool(bob, message(headers.join(''), BODY));
  const dropped = await mail.rewriteHeaders(again, { prepend: [], drop: forged });
  assert.equal(
    readFileSync(dropped.path, 'latin1'),
    `${RECEIVED}${headers[1]}${headers[2]}${headers[4]}${headers[5]}\r\n${BODY}`,
  );
});

test('nothing to prepend and nothing dropped: the same Spooled, the file not copied', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const spooled = await spool(user('bob'), message('From: a@example.org\r\n', BODY));
  const ino = statSync(spooled.path).ino;
  assert.equal(await mail.rewriteHeaders(spooled, { prepend: [] }), spooled);
  assert.equal(await mail.rewriteHeaders(spooled, { prepend: [], drop: forged }), spooled);
  assert.equal(statSync(spooled.path).ino, ino);
});

test('bare LFs: a dropped field takes its bare LFs with it; the count matches the new file', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const original =
    'Authentication-Results: mx.example.com;\n dkim=pass\nFrom: a@example.org\nSubject: x\n\nbody\nline\n';
  const spooled = await spool(user('bob'), original);
  assert.equal(spooled.bareLf, 7);
  const out = await mail.rewriteHeaders(spooled, { prepend: ['X-Spam-Status: No'], drop: forged });
  const file = readFileSync(out.path);
  assert.equal(file.toString(), `X-Spam-Status: No\r\n${RECEIVED}From: a@example.org\nSubject: x\n\nbody\nline\n`);
  assert.equal(out.bareLf, bareLineFeeds(file));
  assert.equal(out.bareLf, 5);
  assert.equal(out.size, file.length);
});

test('a field, a fold and the empty line split across reads, at every byte offset', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const bob = user('bob');
  const forgedField = 'Authentication-Results: mx.example.com;\r\n dkim=pass\r\n';
  const kept = 'Authentication-Results: other.example; dkim=pass\r\n';
  const tail = `${forgedField}${kept}\r\n`;
  // The read boundary (READ_CHUNK) falls on every byte of the forged field, the kept one and the empty line.
  for (let at = 0; at <= tail.length + 1; at++) {
    const fillTo = READ_CHUNK - RECEIVED.length - at;
    let filler = '';
    for (let n = 0; filler.length < fillTo - 80; n++) filler += `X-Filler-${n}: ${'f'.repeat(20)}\r\n`;
    filler += `X-Pad: ${'p'.repeat(fillTo - filler.length - 9)}\r\n`;
    assert.equal(RECEIVED.length + filler.length + at, READ_CHUNK);
    const spooled = await spool(bob, `${filler}${tail}${BODY}`);
    const out = await mail.rewriteHeaders(spooled, { prepend: [AR], drop: forged });
    assert.equal(readFileSync(out.path, 'latin1'), `${AR}\r\n${RECEIVED}${filler}${kept}\r\n${BODY}`, `at ${at}`);
    assert.equal(out.size, statSync(out.path).size);
  }
});

test('a field longer than FIELD_LIMIT is judged on its start and dropped or kept whole', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const bob = user('bob');
  const long = (host: string) => `Authentication-Results: ${host}; dkim=pass${'\r\n\tx'.repeat(FIELD_LIMIT)}\r\n`;
  const headers = `${long('mx.example.com')}Subject: s\r\n${long('other.example')}`;
  const spooled = await spool(bob, message(headers, BODY));
  const out = await mail.rewriteHeaders(spooled, { prepend: [], drop: forged });
  assert.equal(readFileSync(out.path, 'latin1'), `${RECEIVED}Subject: s\r\n${long('other.example')}\r\n${BODY}`);
  assert.equal(out.size, statSync(out.path).size);
});

test('a message that ends inside its header section (no body)', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const spooled = await spool(user('bob'), 'Subject: only\r\nAuthentication-Results: mx.example.com; x=y');
  const out = await mail.rewriteHeaders(spooled, { prepend: [AR], drop: forged });
  assert.equal(readFileSync(out.path, 'latin1'), `${AR}\r\n${RECEIVED}Subject: only\r\n`);
});

test('a prepend line that is not one header field is refused before anything is written', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const spooled = await spool(user('bob'), message('From: a@example.org\r\n', BODY));
  for (const bad of ['X-A: 1\r\n\r\nInjected body', 'X-A: 1\nX-B: 2', 'no colon', 'X-A: 1\r\n', ''])
    await assert.rejects(mail.rewriteHeaders(spooled, { prepend: [bad] }), TypeError);
  assert.deepEqual(readdirSync(dirname(spooled.path)), [spooled.unique]);
  // A folded line is one field.
  await mail.rewriteHeaders(spooled, { prepend: [`${AR};\r\n\tdkim=none`] });
});

test('a failure (the drop rule throwing, fdatasync failing, the file gone) leaves the old file intact and nothing in tmp/', async (t) => {
  const { mail, user, spool } = mailStoreFor(t);
  const bob = user('bob');
  const original = message(`From: a@example.org\r\n${'X-Big: '.padEnd(1000, 'b')}\r\n`.repeat(400), BODY);
  const spooled = await spool(bob, original);
  const before = readFileSync(spooled.path);
  const tmp = dirname(spooled.path);
  const intact = () => {
    assert.ok(readFileSync(spooled.path).equals(before), 'the old file, untouched');
    assert.deepEqual(readdirSync(tmp), [spooled.unique], 'no new file left behind');
  };

  let calls = 0;
  const throwing = () => {
    if (++calls > 300) throw new Error('rule failed');
    return false;
  };
  const e1 = await mail.rewriteHeaders(spooled, { prepend: [AR], drop: throwing }).catch((e: Error) => e);
  assert.ok(e1 instanceof StoreError && /rule failed/.test(e1.message), String(e1));
  intact();

  const fh = await open(spooled.path, 'r');
  const proto = Object.getPrototypeOf(fh) as { datasync(): Promise<void> };
  await fh.close();
  const sync = mock.method(proto, 'datasync', () =>
    Promise.reject(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' })),
  );
  try {
    const e2 = await mail.rewriteHeaders(spooled, { prepend: [AR] }).catch((e: Error) => e);
    assert.ok(e2 instanceof StoreError && /EIO/.test(e2.message), String(e2));
    assert.equal(sync.mock.callCount(), 1);
  } finally {
    sync.mock.restore();
  }
  intact();

  // The old file still works: rewritten, delivered.
  const out = await mail.rewriteHeaders(spooled, { prepend: [AR] });
  await mail.deliver(out, [{ userId: bob.id, email: bob.email, ...inbox(mail, bob.id) }], []);

  const gone = { ...spooled, path: `${spooled.path}.missing` };
  await assert.rejects(mail.rewriteHeaders(gone, { prepend: [AR] }), StoreError);
  await assert.rejects(mail.rewriteHeaders(gone, { prepend: [], drop: forged }), StoreError);
  assert.deepEqual(readdirSync(tmp), []);
});

const inbox = (mail: ReturnType<typeof mailStoreFor>['mail'], userId: number) => ({
  mailboxId: mail.index.mailboxes.get(userId, 'INBOX')!.id,
  mailboxName: 'INBOX',
});

test('a 32 MiB message is streamed: memory stays flat and the body is copied exactly', async (t) => {
  const { mail, user } = mailStoreFor(t);
  const bob = user('bob');
  const line = Buffer.from(`${'0123456789abcdef'.repeat(4)}\r\n`);
  const block = Buffer.concat(Array.from({ length: 1024 }, () => line)); // 66 KiB
  const blocks = Math.ceil((32 * 1024 * 1024) / block.length);
  const head = Buffer.from('Authentication-Results: mx.example.com;\r\n dkim=pass\r\nSubject: big\r\n\r\n');
  const expected = createHash('sha256');
  expected.update(`${AR}\r\n${RECEIVED}Subject: big\r\n\r\n`);
  for (let i = 0; i < blocks; i++) expected.update(block);
  const spooled = await mail.spool(
    Buffer.from(RECEIVED),
    Readable.from(
      (function* () {
        yield head;
        for (let i = 0; i < blocks; i++) yield block;
      })(),
    ),
    1 << 30,
    { email: bob.email, mailboxName: 'INBOX' },
  );
  globalThis.gc?.();
  const base = process.memoryUsage();
  let peakBuffers = 0;
  let peakRss = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakBuffers = Math.max(peakBuffers, m.arrayBuffers - base.arrayBuffers);
    peakRss = Math.max(peakRss, m.rss - base.rss);
  };
  const timer = setInterval(sample, 1);
  const started = performance.now();
  const out = await mail.rewriteHeaders(spooled, { prepend: [AR], drop: forged });
  const ms = performance.now() - started;
  clearInterval(timer);
  sample();
  t.diagnostic(
    `32 MiB rewrite: ${ms.toFixed(0)} ms, peak buffers +${(peakBuffers / 2 ** 20).toFixed(1)} MiB, rss +${(peakRss / 2 ** 20).toFixed(1)} MiB`,
  );
  // Read whole, the file would add 32 MiB of buffers; streamed, a few READ_CHUNKs at most.
  assert.ok(peakBuffers < 8 * 2 ** 20, `buffers grew by ${peakBuffers} bytes`);
  assert.equal(out.size, statSync(out.path).size);
  assert.equal(
    out.size,
    spooled.size + AR.length + 2 - 'Authentication-Results: mx.example.com;\r\n dkim=pass\r\n'.length,
  );
  const actual = createHash('sha256');
  for await (const c of createReadStream(out.path)) actual.update(c as Buffer);
  assert.equal(actual.digest('hex'), expected.digest('hex'));
});

test('a rewritten message delivers: indexed with its headers, RFC822.SIZE that of its CRLF file, read back whole', async (t) => {
  const { mail, repos, user, inboxOf, spool } = mailStoreFor(t);
  const bob = user('bob');
  const spooled = await spool(
    bob,
    'Authentication-Results: mx.example.com; dkim=pass\r\nMessage-ID: <d1@example.org>\r\nSubject: s\r\n\r\nbare\nlf\n',
  );
  const out = await mail.rewriteHeaders(spooled, { prepend: [AR, 'X-Spam-Status: No, score=0.1'], drop: forged });
  const [stored] = await mail.deliver(out, [inboxOf(bob)], []);
  assert.ok(stored);
  const box = repos.mailboxes.get(bob.id, 'INBOX')!;
  const [row] = repos.messages.rows(box.id, [stored.uid]);
  assert.ok(row);
  assert.equal(row.message_id, '<d1@example.org>');
  assert.equal(row.subject, 's');
  assert.ok(row.maildir_name.endsWith(`,S=${out.size}`));
  const served = await mail.read(bob, 'INBOX', { maildir_name: row.maildir_name, ...noFlags });
  assert.equal(
    served.toString(),
    `${AR}\r\nX-Spam-Status: No, score=0.1\r\n${RECEIVED}Message-ID: <d1@example.org>\r\nSubject: s\r\n\r\nbare\r\nlf\r\n`,
  );
  assert.equal(row.size, served.length, 'RFC822.SIZE: the CRLF form IMAP serves');
  assert.equal(row.size, out.size + 2);
  assert.equal(repos.users.get(bob.email)!.used_bytes, row.size);
});

const noFlags = { seen: false, answered: false, flagged: false, deleted: false, draft: false, keywords: [] };

test('small messages (rewritten in memory): unsynced spool -> deliver refuses it; rewriteHeaders syncs it exactly once; failures leave it intact', async (t) => {
  const { mail, user } = mailStoreFor(t);
  const bob = user('bob');
  const target = [{ userId: bob.id, email: bob.email, ...inbox(mail, bob.id) }];
  const spoolUnsynced = (text: string) =>
    mail.spool(
      Buffer.from(RECEIVED),
      Readable.from([Buffer.from(text)]),
      1 << 20,
      { email: bob.email, mailboxName: 'INBOX' },
      { sync: false },
    );
  const fs = (await import('node:fs')).default;
  const { syncBuiltinESMExports } = await import('node:module');
  let syncs = 0;
  let failSync = false;
  const real = fs.fdatasync;
  const counting = mock.method(fs, 'fdatasync', (fd: number, cb: (e: Error | null) => void) => {
    syncs++;
    if (failSync) return cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
    return real(fd, cb);
  });
  syncBuiltinESMExports();
  t.after(() => {
    counting.mock.restore();
    syncBuiltinESMExports();
  });

  const plain = await spoolUnsynced(message('From: a@example.org\r\nSubject: plain\r\n', BODY));
  assert.equal(plain.synced, false);
  assert.equal(syncs, 0, 'spooled without fdatasync');
  await assert.rejects(mail.deliver(plain, target, []), /not synced/);
  const same = await mail.rewriteHeaders(plain, { prepend: [], drop: forged });
  assert.equal(syncs, 1, 'nothing to change: synced in place, once');
  assert.equal(same.synced, true);
  assert.ok(readFileSync(same.path).equals(readFileSync(plain.path)));
  await mail.deliver(same, target, []);

  const withForged = message(`Authentication-Results: mx.example.com; dkim=pass\r\nFrom: a@example.org\r\n`, BODY);
  const s2 = await spoolUnsynced(withForged);
  const before = readFileSync(s2.path);
  const tmp = dirname(s2.path);
  // The drop rule throwing, then fdatasync failing: the old file intact, nothing new in tmp/.
  const e1 = await mail
    .rewriteHeaders(s2, {
      prepend: [AR],
      drop: () => {
        throw new Error('rule failed');
      },
    })
    .catch((e: Error) => e);
  assert.ok(e1 instanceof StoreError && /rule failed/.test(e1.message), String(e1));
  failSync = true;
  const e2 = await mail.rewriteHeaders(s2, { prepend: [AR], drop: forged }).catch((e: Error) => e);
  assert.ok(e2 instanceof StoreError && /EIO/.test(e2.message), String(e2));
  failSync = false;
  assert.ok(readFileSync(s2.path).equals(before));
  assert.deepEqual(readdirSync(tmp), [s2.unique]);
  const n = syncs;
  const out = await mail.rewriteHeaders(s2, { prepend: [AR], drop: forged });
  assert.equal(syncs, n + 1, 'rewritten: the new file synced once');
  assert.equal(readFileSync(out.path, 'latin1'), `${AR}\r\n${RECEIVED}From: a@example.org\r\n\r\n${BODY}`);
  assert.equal(out.size, statSync(out.path).size);
  await mail.deliver(out, target, []);
});
