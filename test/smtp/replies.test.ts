// Mailyard's own SMTP replies (smtp/replies.ts) exactly as they appear on the wire. Most of these lines come out
// this way only while replies.ts' patch of smtp-server's connection `send` takes effect: without it smtp-server
// puts its own enhanced code in front of ours ("554 5.6.0 5.7.1 ...", "421 4.4.2 4.7.0 ..."), so an smtp-server
// upgrade that breaks the patch fails here.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import tls from 'node:tls';
import { REPLIES, type Reply } from '../../src/smtp/replies.ts';
import { ehlo, RawSmtp } from '../helpers/smtp.ts';
import { mailServer } from './setup.ts';

const wire = (r: Reply) => `${r.code} ${r.enhanced} ${r.text}`;

test('a refusal carries its own enhanced code, once; smtp-server keeps deriving codes for its own replies', async (t) => {
  const { ports } = await mailServer(t, { smtp: { max_errors: 3 } });
  const c = await ehlo(ports.relay);
  t.after(() => c.close());
  const ehloLines = (await c.cmd('EHLO client.example')).lines;
  assert.ok(ehloLines.includes('250-ENHANCEDSTATUSCODES'), 'EHLO still advertises ENHANCEDSTATUSCODES');
  // smtp-server's own replies: untouched by the patch (codes from its context or its table).
  assert.deepEqual((await c.cmd('RCPT TO:<bob@example.com>')).lines, ['503 5.5.1 Error: need MAIL command']);
  assert.deepEqual((await c.cmd('MAIL FROM:<a@remote.example>')).lines, ['250 2.1.0 Accepted']);
  // Ours: 554 would get 5.6.0 from smtp-server, 421 would get 4.4.2.
  const relay = await c.cmd('RCPT TO:<victim@elsewhere.example>');
  assert.deepEqual(relay.lines, ['554 5.7.1 <victim@elsewhere.example>: Relay access denied']);
  assert.deepEqual(relay.lines, [wire(REPLIES.relayDenied('victim@elsewhere.example'))]);
  assert.deepEqual((await c.cmd('RCPT TO:<nobody@example.com>')).lines, [
    '550 5.1.1 <nobody@example.com>: Recipient address rejected: User unknown',
  ]);
  const last = await c.cmd('RCPT TO:<victim@elsewhere.example>');
  assert.deepEqual(last.lines, ['421 4.7.0 Too many errors, closing connection']);
  assert.deepEqual(last.lines, [wire(REPLIES.tooManyErrors())]);
  assert.equal(await c.line(), null, '421 closes the connection');
});

test('a refused connection gets 421 4.7.0 from REPLIES, then is closed', async (t) => {
  const { ports } = await mailServer(t, { smtp: { max_connections_per_ip: 1 } });
  const a = await ehlo(ports.relay);
  t.after(() => a.close());
  const b = await RawSmtp.connect(ports.relay);
  t.after(() => b.close());
  assert.deepEqual((await b.reply()).lines, ['421 4.7.0 Too many connections from your address, try again later']);
  assert.equal(await b.line(), null);
  assert.equal((await a.cmd('NOOP')).code, 250, 'the first connection is unaffected');
});

test("a failed AUTH on SMTPS gets 535 5.7.8 once (not smtp-server's own code in front of it)", async (t) => {
  const { ports } = await mailServer(t);
  const socket = tls.connect({ port: ports.smtps, host: '127.0.0.1', rejectUnauthorized: false });
  const c = new RawSmtp(socket);
  t.after(() => c.close());
  assert.equal((await c.reply()).code, 220);
  assert.equal((await c.cmd('EHLO client.example')).code, 250);
  const auth = await c.cmd(`AUTH PLAIN ${Buffer.from('\0bob@example.com\0wrong-password').toString('base64')}`);
  assert.deepEqual(auth.lines, ['535 5.7.8 Authentication credentials invalid']);
  assert.deepEqual(auth.lines, [wire(REPLIES.authFailed())]);
});
