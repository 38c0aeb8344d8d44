// Per-domain rate limits through a real SMTP session: ratelimit_smtp_per_ip / _per_domain / _per_user of the
// recipient's domain, 451 4.7.1 with the log line rate_limit_exceeded and a DEFERRED event; a rule changed through
// the REST API applies to the next transaction; trusted networks are exempt.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { policyServer } from './setup.ts';

const OFF = { greylist: { enabled: false }, spf: { enabled: false }, dmarc: { enabled: false } };

test('the (N+1)th message from one IP inside the window gets 451 4.7.1; the window slides; a changed rule applies at once', async (t) => {
  const s = await policyServer(t, {
    security: { ...OFF, rate_limit: { smtp_per_ip: { count: 3, window_minutes: 10 } } },
  });
  for (let i = 1; i <= 3; i++) {
    const r = await s.send('alice@remote.example', ['bob@example.com']);
    assert.deepEqual(r.rcpt, ['250 2.1.5'], `message ${i}`);
    assert.equal(r.data?.slice(0, 3), '250');
  }
  const fourth = await s.send('alice@remote.example', ['bob@example.com']);
  assert.deepEqual(fourth.rcpt, ['451 4.7.1']);
  assert.match(fourth.raw.rcpt[0]!.text, /Rate limit exceeded/);
  const line = s.logged('rate_limit_exceeded').at(-1);
  assert.ok(line, 'a rate_limit_exceeded log line');
  assert.equal(line.rule, 'smtp_per_ip');
  const deferred = s.app.repos.deliveryEvents.list({ types: ['DEFERRED'] });
  assert.equal(deferred.length, 1);
  assert.equal(deferred[0]!.reason, 'rate_limit_exceeded');
  assert.equal((deferred[0]!.details as Record<string, unknown>).check, 'ratelimit');
  assert.equal(s.inbox('bob@example.com').rows.length, 3);

  // Another domain's rule counts separately (its own allowance for the same IP).
  assert.deepEqual((await s.send('alice@remote.example', ['dave@other.example'])).rcpt, ['250 2.1.5']);

  // Raised through the API: the next transaction is accepted, no restart.
  await s.security('example.com', { rate_limit: { smtp_per_ip: { count: 5, window_minutes: 10 } } });
  assert.deepEqual((await s.send('alice@remote.example', ['bob@example.com'])).rcpt, ['250 2.1.5']);
  // Lowered: refused again.
  await s.security('example.com', { rate_limit: { smtp_per_ip: { count: 2, window_minutes: 10 } } });
  assert.deepEqual((await s.send('alice@remote.example', ['bob@example.com'])).rcpt, ['451 4.7.1']);

  // Two windows later the allowance is back.
  s.clock.now += 20 * 60_000;
  assert.deepEqual((await s.send('alice@remote.example', ['bob@example.com'])).rcpt, ['250 2.1.5']);

  // Switched off for the domain: no limit.
  await s.security('example.com', { rate_limit: { enabled: false } });
  for (let i = 0; i < 4; i++)
    assert.deepEqual((await s.send('alice@remote.example', ['bob@example.com'])).rcpt, ['250 2.1.5']);
});

test('per sender domain and per recipient user rules; several recipients in one message count once per rule', async (t) => {
  const s = await policyServer(t, {
    security: {
      ...OFF,
      rate_limit: {
        smtp_per_ip: { count: 100, window_minutes: 60 },
        smtp_per_domain: { count: 2, window_minutes: 60 },
        smtp_per_user: { count: 100, window_minutes: 60 },
      },
    },
  });
  // One message to two users of example.com counts once against the sender domain.
  assert.deepEqual((await s.send('a@sender.example', ['bob@example.com', 'carol@example.com'])).rcpt, [
    '250 2.1.5',
    '250 2.1.5',
  ]);
  assert.deepEqual((await s.send('b@sender.example', ['bob@example.com'])).rcpt, ['250 2.1.5']);
  assert.deepEqual(
    (await s.send('c@sender.example', ['bob@example.com'])).rcpt,
    ['451 4.7.1'],
    'third from sender.example',
  );
  assert.deepEqual(
    (await s.send('c@elsewhere.example', ['bob@example.com'])).rcpt,
    ['250 2.1.5'],
    'other sender domain',
  );

  await s.security('example.com', {
    rate_limit: {
      smtp_per_domain: { count: 100, window_minutes: 60 },
      smtp_per_user: { count: 1, window_minutes: 60 },
    },
  });
  // bob has had 4 messages in the window: over a limit of 1; carol too (1 message).
  assert.deepEqual((await s.send('x@new.example', ['carol@example.com'])).rcpt, ['451 4.7.1']);
  assert.equal(s.logged('rate_limit_exceeded').at(-1)?.rule, 'smtp_per_user');
});

test('clients in smtp.trusted_networks are not rate limited', async (t) => {
  const s = await policyServer(t, {
    over: { smtp: { trusted_networks: ['127.0.0.0/8'] } },
    security: { rate_limit: { smtp_per_ip: { count: 1, window_minutes: 60 } } },
  });
  for (let i = 0; i < 3; i++)
    assert.deepEqual((await s.send('alice@remote.example', ['bob@example.com'])).rcpt, ['250 2.1.5']);
  assert.equal(s.logged('rate_limit_exceeded').length, 0);
});
