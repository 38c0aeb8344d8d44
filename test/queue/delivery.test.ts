import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { deriveKey, loadServerSecret } from '../../src/auth/serverSecret.ts';
import { createSrs } from '../../src/queue/srs.ts';
import { message } from '../helpers/smtp.ts';
import { waitUntil } from '../helpers/wait.ts';
import { outboundServer } from './setup.ts';

const rowsOf = (s: Awaited<ReturnType<typeof outboundServer>>) => s.app.repos.queue.list({ limit: 1000 });

test('a forwarded copy goes to the MX found in DNS, with an SRS envelope sender; events QUEUED, DELIVERY_ATTEMPT, DELIVERED_REMOTE; the spool file is removed', async (t) => {
  const s = await outboundServer(t);
  const sent = await s.send(
    'someone@sender.example',
    ['fwd@example.com'],
    message('forward me', 'Line one.\r\n.dot line\r\n'),
  );
  assert.equal(sent.data?.code, 250);
  await waitUntil(() => s.mx.received.length === 1, 'the remote MX to receive the copy');
  const got = s.mx.received[0]!;
  assert.deepEqual(got.to, ['partner@remote.example']);
  assert.match(got.from, /^SRS0=[A-Za-z0-9+/]{4}=[A-Z2-7]{2}=sender\.example=someone@example\.com$/i);
  const text = got.data.toString();
  assert.match(text, /^Received: from /m);
  assert.doesNotMatch(text, /^Return-Path:/im, 'a relay sends no Return-Path (RFC 5321 4.4)');
  assert.match(text, /\r\n\.dot line\r\n/, 'dot-stuffing undone by the receiver: the line arrives as written');
  const row = await waitUntil(() => rowsOf(s).find((r) => r.status === 'delivered'), 'the row to be settled');
  assert.equal(row.attempts, 1);
  assert.equal(row.last_mx, 'mx.remote.example');
  assert.equal(row.dsn_to, 'someone@sender.example');
  await waitUntil(() => !existsSync(row.spool_file), 'the spool file to be removed');
  const types = s.events().map((e) => e.type);
  for (const ty of ['RECEIVED', 'QUEUED', 'DELIVERY_ATTEMPT', 'DELIVERED_REMOTE'] as const)
    assert.ok(types.includes(ty), `${ty} in ${types}`);
  const attempt = s.events(['DELIVERY_ATTEMPT'])[0]!;
  assert.equal((attempt.details as { mx: string }).mx, 'mx.remote.example');
  assert.equal(attempt.remoteIp, '127.0.0.1');
  assert.equal(s.logged('message delivered remotely').length, 1);
});

test('451 twice, then 250: delivered on the third attempt, with a DEFERRED event for each failure', async (t) => {
  const s = await outboundServer(t);
  s.mx.data = (n) => (n <= 2 ? '451 4.3.0 try again later' : 250);
  assert.equal((await s.send('bob@example.com', ['fwd@example.com'], message('retry me'))).data?.code, 250);
  const row = await waitUntil(() => rowsOf(s).find((r) => r.status === 'delivered'), 'delivery after retries', {
    timeoutMs: 15_000,
    detail: () => JSON.stringify(rowsOf(s).map((r) => [r.status, r.attempts, r.last_error])),
  });
  assert.equal(row.attempts, 3);
  assert.equal(s.mx.received.length, 1);
  const deferred = s.events(['DEFERRED']);
  assert.equal(deferred.length, 2);
  assert.match(deferred[0]!.reason!, /^451 4\.3\.0 try again later/);
  assert.equal(s.events(['DELIVERED_REMOTE']).length, 1);
  assert.deepEqual(s.mx.log, [
    'RCPT partner@remote.example 250',
    'DATA 451',
    'RCPT partner@remote.example 250',
    'DATA 451',
    'RCPT partner@remote.example 250',
    'DATA 250',
  ]);
});

test('a remote 550: BOUNCED event and an RFC 3464 report in the sender INBOX; other recipients of the message are delivered', async (t) => {
  const s = await outboundServer(t);
  s.mx.rcpt = (a) => (a === 'one@remote.example' ? '550 5.1.1 no such user here' : 250);
  assert.equal((await s.send('carol@example.com', ['team@example.com'], message('to the team'))).data?.code, 250);
  await waitUntil(
    () => s.events(['BOUNCED']).length === 1 && s.events(['DELIVERED_REMOTE']).length === 1,
    'the outcome',
  );
  assert.deepEqual(s.mx.received[0]!.to, ['two@remote.example'], 'one transaction, the accepted recipient');
  const dsn = await waitUntil(async () => (await s.inbox('carol@example.com'))[0], 'the DSN in carol INBOX');
  assert.match(dsn, /^From: "?Mail Delivery System"? <MAILER-DAEMON@mail\.test\.example>/m);
  assert.match(dsn, /^Content-Type: multipart\/report; report-type=delivery-status/im);
  assert.match(dsn, /^Auto-Submitted: auto-replied/m);
  assert.match(dsn, /^Final-Recipient: rfc822; ?one@remote\.example/m);
  assert.match(dsn, /^Action: failed/m);
  assert.match(dsn, /^Status: 5\.1\.1/m);
  assert.match(dsn, /^Diagnostic-Code: smtp; ?550 5\.1\.1 no such user here/m);
  assert.match(dsn, /^Subject: to the team/m, 'the original is returned');
  assert.doesNotMatch(dsn, /two@remote\.example/, 'only the failed recipient is reported');
  const bounced = s.events(['BOUNCED'])[0]!;
  assert.deepEqual(bounced.recipients, ['one@remote.example']);
  assert.equal((await s.inbox('bob@example.com')).length, 1, 'the local member of the alias got the message');
});

test('a message with the null sender that bounces produces no DSN', async (t) => {
  const s = await outboundServer(t);
  s.mx.rcpt = () => '550 5.7.1 refused';
  assert.equal((await s.send('', ['fwd@example.com'], message('a bounce of a bounce'))).data?.code, 250);
  await waitUntil(() => s.events(['BOUNCED']).length === 1, 'the bounce');
  const row = rowsOf(s)[0]!;
  assert.equal(row.status, 'bounced');
  assert.equal(row.sender, '', 'the null sender is never SRS-rewritten');
  // Let a notice have its chance to be written: none may be.
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(s.logged('delivery status notification sent').length, 0);
  assert.equal(s.app.repos.queue.list({ limit: 100 }).length, 1, 'no DSN queued either');
});

test('a bounce to the SRS address of a forwarded message is routed back to the original sender', async (t) => {
  const s = await outboundServer(t);
  await s.send('someone@sender.example', ['fwd@example.com'], message('will bounce later'));
  await waitUntil(() => s.mx.received.length === 1, 'the forwarded copy');
  const srs = s.mx.received[0]!.from;
  // The remote system bounces it later, to the envelope sender it saw.
  const bounce = await s.send('', [srs], message('Undelivered Mail Returned to Sender'));
  assert.equal(bounce.rcpt[0]!.code, 250, 'the SRS address is accepted');
  assert.equal(bounce.data?.code, 250);
  await waitUntil(() => s.mx.received.length === 2, 'the bounce to reach the original sender');
  assert.deepEqual(s.mx.received[1]!.to, ['someone@sender.example']);
  assert.equal(s.mx.received[1]!.from, '');
  // A forged SRS address (bad hash) is refused at RCPT.
  const forged = srs.replace(/^SRS0=(.)/i, (_m, c: string) => `SRS0=${c.toLowerCase() === 'a' ? 'B' : 'A'}`);
  const refused = await s.send('', [forged], message('forged'));
  assert.equal(refused.rcpt[0]!.code, 550);
});

test('a message that keeps failing temporarily bounces when queue.max_age_days runs out (status 4.4.7)', async (t) => {
  const s = await outboundServer(t, { queue: { max_age_days: 1 / 86_400 } });
  s.mx.data = () => '451 4.3.0 busy';
  await s.send('bob@example.com', ['fwd@example.com'], message('never arrives'));
  await waitUntil(() => s.events(['BOUNCED']).length === 1, 'the expiry bounce', { timeoutMs: 15_000 });
  assert.ok(s.events(['DEFERRED']).length >= 1);
  const dsn = await waitUntil(async () => (await s.inbox('bob@example.com'))[0], 'the DSN');
  assert.match(dsn, /^Status: 4\.4\.7/m);
  assert.match(dsn, /^Action: failed/m);
  assert.match(dsn, /451 4\.3\.0 busy/);
});

test('queue.delay_warning_hours: one delay notice (action delayed), then the message is still delivered', async (t) => {
  const s = await outboundServer(t, { queue: { delay_warning_hours: 0.5 / 3600 } });
  let fail = true;
  s.mx.data = () => (fail ? '451 4.3.0 busy' : 250);
  await s.send('bob@example.com', ['fwd@example.com'], message('slow one'));
  const notice = await waitUntil(async () => (await s.inbox('bob@example.com'))[0], 'the delay notice', {
    timeoutMs: 15_000,
  });
  assert.match(notice, /^Action: delayed/m);
  assert.match(notice, /^Will-Retry-Until: /m);
  assert.match(notice, /^Content-Type: text\/rfc822-headers/m);
  // More failed attempts: still one notice.
  const attempts = s.events(['DEFERRED']).length;
  await waitUntil(() => s.events(['DEFERRED']).length >= attempts + 2, 'two more attempts', { timeoutMs: 15_000 });
  assert.equal((await s.inbox('bob@example.com')).length, 1);
  fail = false;
  await waitUntil(() => s.events(['DELIVERED_REMOTE']).length === 1, 'the delivery', { timeoutMs: 15_000 });
});

test('smtp.relay_networks: a listed client relays through the MX (sender kept, no SRS); others get 554 5.7.1', async (t) => {
  const s = await outboundServer(t, { smtp: { relay_networks: ['127.0.0.0/8'] } });
  const r = await s.send('app@sender.example', ['someone@far.example', 'bob@example.com'], message('from an app'));
  assert.deepEqual(
    r.rcpt.map((x) => x.code),
    [250, 250],
  );
  assert.equal(r.data?.code, 250);
  await waitUntil(() => s.mx.received.length === 1, 'the relayed copy');
  assert.equal(s.mx.received[0]!.from, 'app@sender.example');
  assert.deepEqual(s.mx.received[0]!.to, ['someone@far.example']);
  assert.equal((await s.inbox('bob@example.com')).length, 1);
  assert.equal(rowsOf(s)[0]!.origin, 'submission');

  const closed = await outboundServer(t);
  const refused = await closed.send('app@sender.example', ['someone@far.example'], message('not allowed'));
  assert.equal(refused.rcpt[0]!.code, 554);
  assert.match(refused.rcpt[0]!.text, /^5\.7\.1 /);
});

test('queue.hold: mail is accepted and queued, and nothing is sent', async (t) => {
  const s = await outboundServer(t, { queue: { hold: true } });
  assert.equal((await s.send('bob@example.com', ['fwd@example.com'], message('held'))).data?.code, 250);
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(s.mx.received.length, 0);
  assert.deepEqual(
    rowsOf(s).map((r) => [r.status, r.attempts]),
    [['queued', 0]],
  );
  assert.equal(s.logged('queue.hold is set: outbound mail is queued, not sent').length, 1);
});

test('queue.require_tls: a server whose certificate is not valid for its name gets nothing, in clear or otherwise', async (t) => {
  const s = await outboundServer(t, { queue: { require_tls: true, retry_schedule: [60] } });
  await s.send('bob@example.com', ['fwd@example.com'], message('tls or nothing'));
  const deferred = await waitUntil(() => s.events(['DEFERRED'])[0], 'the deferral');
  assert.match(deferred.reason!, /^451 4\.7\.5 TLS required for mx\.remote\.example \[127\.0\.0\.1\]/);
  assert.equal(s.mx.log.length, 0);
});

test('SRS addresses whose hash holds "/" or "+", or longer than 64 octets, are accepted and reversed', async (t) => {
  const s = await outboundServer(t);
  // The server's own SRS key (from <data>/server-secret), to make addresses as its forwarding would.
  const srs = createSrs(deriveKey(loadServerSecret(s.config.dataDir), 'srs'));
  const wanted = [/^SRS0=[^=]*\//i, /^SRS0=[^=]*\+/i];
  const picked: string[] = [];
  for (const re of wanted)
    for (let i = 0; i < 5000; i++) {
      const a = srs.forward(`user${i}@sender.example`, 'example.com');
      if (re.test(a)) {
        picked.push(a);
        break;
      }
    }
  assert.equal(picked.length, 2, 'found addresses with "/" and "+" in their hash');
  const long = srs.forward(`${'l'.repeat(60)}@sender.example`, 'example.com');
  assert.ok(long.split('@')[0]!.length > 64);
  for (const a of [...picked, long]) {
    const r = await s.send('', [a], message('bounce'));
    assert.equal(r.rcpt[0]!.code, 250, `${a}: ${r.rcpt[0]!.text}`);
  }
  await waitUntil(() => s.mx.received.length === 3, 'the three bounces at the original senders');
  assert.deepEqual(
    s.mx.received.map((m) => m.to[0]).sort(),
    [srs.reverse(picked[0]!), srs.reverse(picked[1]!), `${'l'.repeat(60)}@sender.example`].sort(),
  );
});
