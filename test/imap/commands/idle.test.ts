// IDLE (RFC 2177) and multi-session consistency (RFC 3501 5.2, 7.4.1): updates from SMTP delivery and from other
// sessions arrive at once during IDLE, and at the next command otherwise; EXPUNGE is never sent during FETCH,
// STORE or SEARCH; sequence numbers stay consistent across sessions.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ImapFlow } from 'imapflow';
import { TEST_PASSWORD } from '../../helpers/password.ts';
import { assertRelative } from '../../helpers/wait.ts';
import { idleWatch } from '../clients.ts';
import { imapServer } from '../setup.ts';

test('IDLE reports a message delivered over SMTP within 1 s (raw client and imapflow)', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  await c.cmd('SELECT INBOX');
  const tag = c.nextTag();
  c.write(`${tag} IDLE\r\n`);
  assert.match(await c.readLine(), /^\+ /);
  const sent = performance.now();
  await s.deliver('bob@example.com');
  const acked = performance.now();
  assert.equal(await c.readLine(), '* 1 EXISTS');
  const latency = performance.now() - acked;
  // Relative bound: after the 250 the notification takes less than the delivery itself (it is pushed at commit).
  assertRelative(latency, acked - sent, 'EXISTS after the 250');
  assert.equal(await c.readLine(), '* 1 RECENT');
  c.write('DONE\r\n');
  assert.match((await c.until(tag)).tagged, new RegExp(`^${tag} OK`));
  t.diagnostic(`delivery ${(acked - sent).toFixed(1)} ms, notification ${latency.toFixed(1)} ms after 250`);

  const watch = idleWatch();
  const flow = new ImapFlow({
    host: '127.0.0.1',
    port: s.ports.imap,
    secure: false,
    tls: { rejectUnauthorized: false },
    auth: { user: 'bob@example.com', pass: TEST_PASSWORD },
    logger: watch.logger,
  });
  await flow.connect();
  t.after(() => flow.close());
  await flow.mailboxOpen('INBOX');
  const exists = new Promise<{ count: number; at: number }>((resolve) =>
    flow.on('exists', (e: { count: number }) => resolve({ ...e, at: performance.now() })),
  );
  const acknowledged = watch.idleAcknowledged();
  const idling = flow.idle();
  await acknowledged; // the server answered "+": the delivery below happens during IDLE
  const t0 = performance.now();
  await s.deliver('bob@example.com');
  const delivered = performance.now() - t0;
  const ev = await exists;
  assert.equal(ev.count, 2);
  assertRelative(ev.at - t0, delivered, 'imapflow exists event after the delivery began');
  await flow.noop(); // ends IDLE (DONE) and runs a command
  await idling;
});

test('changes by another session: FETCH FLAGS and EXPUNGE during IDLE; deferred during FETCH/STORE/SEARCH', async (t) => {
  const s = await imapServer(t);
  for (let i = 0; i < 3; i++) await s.deliver('bob@example.com');
  const a = await s.raw({ login: 'bob@example.com' });
  const b = await s.raw({ login: 'bob@example.com' });
  await a.cmd('SELECT INBOX');
  await b.cmd('SELECT INBOX');
  // In IDLE, b sees a's flag change and expunge at once.
  const tag = b.nextTag();
  b.write(`${tag} IDLE\r\n`);
  assert.match(await b.readLine(), /^\+ /);
  await a.cmd('STORE 2 +FLAGS (\\Flagged)');
  assert.match(await b.readLine(), /^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged( \\Recent)?\)\)$/);
  await a.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  assert.match(await b.readLine(), /^\* 1 FETCH \(UID 1 FLAGS \(\\Deleted/);
  await a.cmd('EXPUNGE');
  assert.equal(await b.readLine(), '* 1 EXPUNGE');
  b.write('DONE\r\n');
  await b.until(tag);
  // Outside IDLE: a expunges again; b's FETCH by sequence number must not report it, its NOOP must.
  await a.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  let expunged = s.nextChange('expunge');
  await a.cmd('EXPUNGE');
  await expunged; // b's session has been handed the expunge
  const f = await b.cmd('FETCH 1:* (UID)');
  assert.doesNotMatch(f.raw, /\* \d+ EXPUNGE/);
  // UID 2 is gone from the index: it is not answered (RFC 2180 4.1.3), UID 3 keeps sequence number 2.
  assert.match(f.raw, /^\* 2 FETCH \(UID 3\)\r\nA\d+ OK \[EXPUNGEISSUED\]/);
  const st = await b.cmd('STORE 2 +FLAGS (\\Seen)');
  assert.doesNotMatch(st.raw, /\* \d+ EXPUNGE/);
  const se = await b.cmd('SEARCH ALL');
  assert.doesNotMatch(se.raw, /\* \d+ EXPUNGE/);
  assert.match(se.raw, /\* SEARCH 2\r\n/);
  const n = await b.cmd('NOOP');
  assert.match(n.raw, /\* 1 EXPUNGE/);
  // Now both agree: one message left, UID 3, at sequence number 1.
  assert.match((await b.cmd('FETCH 1 (UID)')).raw, /\* 1 FETCH \(UID 3/);
  assert.match((await a.cmd('FETCH 1 (UID)')).raw, /\* 1 FETCH \(UID 3/);
  // UID FETCH may report expunges.
  await s.deliver('bob@example.com');
  await a.cmd('NOOP');
  await a.cmd('STORE 1 +FLAGS.SILENT (\\Deleted)');
  expunged = s.nextChange('expunge');
  await a.cmd('EXPUNGE');
  await expunged;
  const u = await b.cmd('UID FETCH 1:* (FLAGS)');
  assert.match(u.raw, /\* 1 EXPUNGE/);
  assert.match(u.raw, /\* 1 FETCH \(UID 4 FLAGS/);
});

test('IDLE needs DONE; anything else ends it with BAD; LOGOUT during idle-less session works', async (t) => {
  const s = await imapServer(t);
  const c = await s.raw({ login: 'bob@example.com' });
  await c.cmd('SELECT INBOX');
  const tag = c.nextTag();
  c.write(`${tag} IDLE\r\n`);
  await c.readLine();
  c.write('NOT-DONE\r\n');
  assert.match((await c.until(tag)).tagged, /BAD/);
  assert.match((await c.cmd('NOOP')).tagged, /OK/);
});

test('IDLE after the newest message was expunged elsewhere keeps the server responsive; RECENT drops expunged', async (t) => {
  const s = await imapServer(t);
  for (let i = 0; i < 3; i++) await s.deliver('bob@example.com');
  const a = await s.raw({ login: 'bob@example.com' });
  const b = await s.raw({ login: 'bob@example.com' });
  const sel = await a.cmd('SELECT INBOX');
  assert.match(sel.raw, /\* 3 RECENT/);
  await b.cmd('SELECT INBOX');
  const moved = s.nextChange('expunge');
  await b.cmd('UID MOVE 3 Trash');
  await moved; // a's session has been handed the expunge from INBOX
  const tag = a.nextTag();
  a.write(`${tag} IDLE\r\n`);
  assert.match(await a.readLine(), /^\+ /);
  assert.equal(await a.readLine(), '* 3 EXPUNGE');
  // The event loop is not stuck: other sessions and SMTP still work, and the new message reaches the IDLE.
  assert.match((await b.cmd('NOOP')).tagged, /OK/);
  await s.deliver('bob@example.com');
  assert.equal(await a.readLine(), '* 3 EXISTS');
  // Two of the three recent messages are left plus the new one (the expunged one is no longer counted).
  assert.equal(await a.readLine(), '* 3 RECENT');
  a.write('DONE\r\n');
  assert.match((await a.until(tag)).tagged, /OK/);
});
