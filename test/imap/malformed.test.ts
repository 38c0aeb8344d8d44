// Robustness (the IMAP issue, "Robustness"): malformed input gets BAD or NO, never a crash or a hang; limits on
// line length and literal size; other sessions are unaffected, including by a client that never reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TEST_PASSWORD } from '../helpers/password.ts';
import { assertRelative, waitUntil } from '../helpers/wait.ts';
import { imapServer } from './setup.ts';

test('a malformed command corpus is answered BAD or NO and the session keeps working', async (t) => {
  const s = await imapServer(t, { smtp: { max_message_size: 100_000 } });
  await s.deliver('bob@example.com');
  const c = await s.raw({ login: 'bob@example.com' });
  const other = await s.raw({ login: 'carol@example.com' });
  await c.cmd('SELECT INBOX');
  const corpus: [string, RegExp][] = [
    ['FETCH 1 (FLAGS', /^A\d+ BAD /],
    ['FETCH 1 FLAGS)', /^A\d+ BAD /],
    ['FETCH 1 ((((FLAGS))))', /^A\d+ BAD /],
    ['FETCH 1 BODY[HEADER', /^A\d+ BAD /],
    ['FETCH 1 BODY[99.TEXT.FOO]', /^A\d+ BAD /],
    ['FETCH 0 FLAGS', /^A\d+ BAD /],
    ['FETCH 1:0 FLAGS', /^A\d+ BAD /],
    ['FETCH 5 FLAGS', /^A\d+ BAD /],
    ['FETCH abc FLAGS', /^A\d+ BAD /],
    ['FETCH 1,,2 FLAGS', /^A\d+ BAD /],
    ['FETCH 4294967296 FLAGS', /^A\d+ BAD /],
    ['UID FETCH 1:99999999999 FLAGS', /^A\d+ BAD /],
    ['FETCH 1 NOSUCHITEM', /^A\d+ BAD /],
    ['STORE 1 +FLAGS (\\Bogus)', /^A\d+ BAD /],
    ['STORE 1 PLUSFLAGS (\\Seen)', /^A\d+ BAD /],
    ['SEARCH NOSUCHKEY', /^A\d+ BAD /],
    ['SEARCH OR SEEN', /^A\d+ BAD /],
    ['SEARCH SINCE 32-Foo-2020', /^A\d+ BAD /],
    ['SEARCH CHARSET KOI8-R ALL', /^A\d+ NO \[BADCHARSET/],
    ['SELECT', /^A\d+ BAD /],
    ['SELECT "unterminated', /^A\d+ BAD /],
    ['COPY 1 NoSuchBox', /^A\d+ NO \[TRYCREATE\]/],
    // A failed SELECT leaves no mailbox selected (RFC 3501 6.3.1).
    ['SELECT NoSuchBox', /^A\d+ NO \[NONEXISTENT\]/],
    ['FETCH 1 FLAGS', /^A\d+ BAD .*without a selected mailbox/],
    ['SELECT INBOX', /^A\d+ OK \[READ-WRITE\]/],
    ['CREATE "a//b"', /^A\d+ BAD /],
    ['CREATE "x*"', /^A\d+ BAD /],
    ['LOGIN a b', /^A\d+ BAD /],
    ['AUTHENTICATE PLAIN', /^A\d+ BAD /],
    ['FROBNICATE', /^A\d+ BAD /],
    ['NOOP extra', /^A\d+ BAD /],
    ['STATUS INBOX (BOGUS)', /^A\d+ BAD /],
    ['APPEND INBOX (\\Seen) "bad date" {3+}\r\nabc', /^A\d+ BAD /],
    [`SELECT ${'('.repeat(200)}`, /^A\d+ BAD /],
  ];
  for (const [cmd, want] of corpus) {
    const r = await c.cmd(cmd);
    assert.match(r.tagged, want, `${cmd.slice(0, 60)} -> ${r.tagged}`);
  }
  // NUL bytes and 8-bit garbage in atoms.
  const tag = c.nextTag();
  c.write(Buffer.concat([Buffer.from(`${tag} SELECT IN`), Buffer.from([0]), Buffer.from('BOX\r\n')]));
  assert.match((await c.until(tag)).tagged, new RegExp(`^${tag} BAD `));
  const tag2 = c.nextTag();
  c.write(Buffer.concat([Buffer.from(`${tag2} FETCH 1 `), Buffer.from([0xff, 0xfe]), Buffer.from('\r\n')]));
  assert.match((await c.until(tag2)).tagged, new RegExp(`^${tag2} BAD `));
  // A line far over the limit is answered BAD and skipped to its end; the next command works.
  const tag3 = c.nextTag();
  c.write(`${tag3} SEARCH SUBJECT ${'x'.repeat(200_000)}\r\n`);
  assert.match((await c.until(tag3)).tagged, new RegExp(`^${tag3} BAD .*too long`));
  // A literal above the limit: synchronizing -> NO [TOOBIG] without a continuation; the client sends nothing.
  const tag4 = c.nextTag();
  c.write(`${tag4} APPEND INBOX {999999999}\r\n`);
  const r4 = await c.until(tag4);
  assert.equal(r4.lines.length, 0);
  assert.match(r4.tagged, /NO \[TOOBIG\]/);
  // Non-synchronizing and too big but small enough to swallow: read and discarded, then NO [TOOBIG].
  const tag5 = c.nextTag();
  c.write(`${tag5} APPEND INBOX {150000+}\r\n${'y'.repeat(150_000)}\r\n`);
  assert.match((await c.until(tag5)).tagged, /NO \[TOOBIG\]/);
  // Still in sync and working, and the other session too.
  assert.match((await c.cmd('FETCH 1 (UID)')).raw, /\* 1 FETCH \(UID 1\)/);
  assert.match((await other.cmd('STATUS INBOX (MESSAGES)')).tagged, /OK/);
  // A huge non-synchronizing literal cannot be swallowed: the connection is closed, the server stays up.
  const tag6 = c.nextTag();
  c.write(`${tag6} APPEND INBOX {900000000+}\r\n`);
  c.write('z'.repeat(1000));
  await c.waitClosed(2000);
  assert.equal(c.closed, true);
  assert.match((await other.cmd('NOOP')).tagged, /OK/);
  const again = await s.raw({ login: 'bob@example.com' });
  assert.match((await again.cmd('SELECT INBOX')).raw, /\* 1 EXISTS/);
});

test('commands in the wrong state are BAD; pipelined commands run in order', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw();
  assert.match((await c.cmd('SELECT INBOX')).tagged, /BAD .*before authentication/);
  assert.match((await c.cmd('FETCH 1 FLAGS')).tagged, /BAD /);
  await c.login('bob@example.com', TEST_PASSWORD);
  assert.match((await c.cmd('FETCH 1 FLAGS')).tagged, /BAD .*without a selected mailbox/);
  assert.match((await c.cmd(`LOGIN bob@example.com ${TEST_PASSWORD}`)).tagged, /BAD /);
  c.write('p1 SELECT INBOX\r\np2 CREATE Pipe\r\np3 STATUS Pipe (MESSAGES)\r\np4 NOOP\r\n');
  const r = await c.until('p4');
  assert.match(r.raw, /p1 OK \[READ-WRITE\][\s\S]*p2 OK[\s\S]*\* STATUS "Pipe" \(MESSAGES 0\)[\s\S]*p3 OK/);
});

test('a client that never reads its responses does not stall other sessions', async (t) => {
  const s = await imapServer(t);
  const big = `Subject: big\r\n\r\n${'0123456789abcdef'.repeat(64 * 1024)}\r\n`; // ~1 MiB
  for (let i = 0; i < 4; i++) await s.deliver('bob@example.com', big);
  const slow = await s.raw({ login: 'bob@example.com' });
  await slow.cmd('SELECT INBOX');
  const fast = await s.raw({ login: 'bob@example.com' });
  // Baseline: the same 20 STATUS while nobody is stuck.
  let started = performance.now();
  for (let i = 0; i < 20; i++) assert.match((await fast.cmd('STATUS INBOX (MESSAGES)')).raw, /MESSAGES 4/);
  const baseline = performance.now() - started;
  slow.socket.pause();
  for (let i = 0; i < 20; i++) slow.write(`s${i} FETCH 1:* BODY.PEEK[]\r\n`);
  started = performance.now();
  for (let i = 0; i < 20; i++) assert.match((await fast.cmd('STATUS INBOX (MESSAGES)')).raw, /MESSAGES 4/);
  const elapsed = performance.now() - started;
  // Serving ~20 MiB to the stuck client's socket buffers costs some CPU; a stall would cost seconds.
  assertRelative(elapsed, baseline, '20 STATUS while another client was stuck', 10, 500);
  // The stuck session's output is bounded by socket backpressure, and it recovers when it reads.
  slow.socket.resume();
  const r = await slow.until('s19', 30_000);
  assert.match(r.tagged, /^s19 OK/);
});

test('hostile patterns and connection churn: LIST globs stay linear, STARTTLS and dropped logins free their slots', async (t) => {
  const s = await imapServer(t, { imap: { max_connections: 3, max_sessions_per_user: 1 } });
  const c = await s.raw({ login: 'bob@example.com' });
  // A name longer than a directory name can be is refused up front (Maildir++ keeps a hierarchy in one name).
  assert.match((await c.cmd(`CREATE ${'a'.repeat(300)}`)).tagged, /NO \[LIMIT\]/);
  assert.match((await c.cmd(`CREATE ${'a'.repeat(200)}`)).tagged, /OK/);
  // Exponential for a backtracking regular expression; linear here.
  const r = await c.cmd(`LIST "" "${'*a'.repeat(12)}*b"`);
  assert.match(r.tagged, /OK/);
  assert.doesNotMatch(r.raw, /aaaa/);
  assert.match((await c.cmd(`LIST "" "${'*a'.repeat(12)}*"`)).raw, /\* LIST .*"a{200}"/);
  await c.cmd('LOGOUT');
  // STARTTLS sessions that end are forgotten by the listener: with max_connections 3, six in a row still work.
  // The server notices a close asynchronously: each connection is retried until greeted (deadline), so a slot
  // that is never freed fails the test.
  for (let i = 0; i < 6; i++) {
    let greeting = '';
    const x = await waitUntil(
      async () => {
        const y = await s.raw();
        greeting = y.greeting;
        if (/^\* OK /.test(y.greeting)) return y;
        y.close();
        return null;
      },
      `connection ${i} greeted OK`,
      { intervalMs: 20, detail: () => greeting },
    );
    assert.match(x.greeting, /^\* OK /, `connection ${i}`);
    assert.match((await x.cmd('STARTTLS')).tagged, /OK/);
    x.close();
  }
  // A client that drops while its LOGIN is being checked does not keep the user's only session slot.
  for (let i = 0; i < 3; i++) {
    const x = await s.raw();
    x.write(`l1 LOGIN bob@example.com ${TEST_PASSWORD}\r\n`);
    x.close();
  }
  // Their password checks finish and their slots are released: log in as soon as that has happened (deadline).
  let refused = '';
  const ok = await waitUntil(
    async () => {
      const y = await s.raw();
      const r = await y.cmd(`LOGIN bob@example.com ${TEST_PASSWORD}`);
      if (/ OK /.test(r.tagged)) return y;
      refused = r.tagged;
      y.close();
      return null;
    },
    "bob's only session slot to be free again",
    { intervalMs: 50, detail: () => refused },
  );
  assert.match((await ok.cmd('NOOP')).tagged, /OK/);
  // Before login, only small literals are accepted.
  const pre = await s.raw();
  ok.close();
  const tag = pre.nextTag();
  pre.write(`${tag} LOGIN {100000}\r\n`);
  const rej = await pre.until(tag);
  assert.equal(rej.lines.length, 0);
  assert.match(rej.tagged, /NO \[TOOBIG\]/);
});
