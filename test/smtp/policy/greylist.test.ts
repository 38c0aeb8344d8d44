// Greylisting through a real SMTP session, with the policy clock moved by the test: first attempt 451 4.7.1,
// a retry before greylist_delay_minutes 451 again, after it accepted, a triplet that passed
// greylist_whitelist_after times let through at once (even when the delay is raised later), and the state kept across a restart of the server (SQLite).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tmpDir } from '../../helpers/tmp.ts';
import { type Clock, policyServer } from './setup.ts';

const OFF = { rate_limit: { enabled: false }, spf: { enabled: false }, dmarc: { enabled: false } };

test('greylisting: deferred, deferred before the delay, accepted after it, whitelisted after N passes, kept across a restart', async (t) => {
  const dir = tmpDir(t);
  const clock: Clock = { now: Date.UTC(2026, 11, 2, 12) };
  const security = { ...OFF, greylist: { enabled: true, delay_minutes: 5, whitelist_after: 2, expiry_days: 30 } };
  let s = await policyServer(t, { dir, clock, security });

  const first = await s.send('alice@remote.example', ['bob@example.com']);
  assert.deepEqual(first.rcpt, ['451 4.7.1']);
  assert.match(first.raw.rcpt[0]!.text, /[Gg]reylist/);
  assert.equal(first.data, null, 'no DATA without an accepted recipient');
  assert.equal(s.logged('greylisted').length, 1);
  assert.equal(s.app.repos.deliveryEvents.list({ types: ['GREYLISTED'] }).length, 1);

  clock.now += 2 * 60_000;
  assert.deepEqual((await s.send('alice@remote.example', ['bob@example.com'])).rcpt, ['451 4.7.1'], 'before the delay');

  // The server restarts: the triplet is remembered (the delay counts from the first attempt).
  await s.app.stop();
  s = await policyServer(t, { dir, clock, security });
  clock.now += 4 * 60_000; // 6 minutes after the first attempt
  const passed = await s.send('alice@remote.example', ['bob@example.com']);
  assert.deepEqual(passed.rcpt, ['250 2.1.5'], 'after the delay, across a restart');
  assert.equal(passed.data?.slice(0, 3), '250');

  // Another triplet (another recipient) is greylisted on its own.
  assert.deepEqual((await s.send('alice@remote.example', ['carol@example.com'])).rcpt, ['451 4.7.1']);

  // carol's triplet passes once after the delay; bob's passes a second time, reaching whitelist_after = 2.
  clock.now += 6 * 60_000;
  assert.deepEqual((await s.send('alice@remote.example', ['carol@example.com'])).rcpt, ['250 2.1.5']);
  assert.deepEqual((await s.send('alice@remote.example', ['bob@example.com'])).rcpt, ['250 2.1.5']);
  // The delay is raised through the API: the whitelisted triplet still passes at once, the other waits again.
  await s.security('example.com', { greylist: { delay_minutes: 600 } });
  assert.deepEqual((await s.send('alice@remote.example', ['bob@example.com'])).rcpt, ['250 2.1.5'], 'whitelisted');
  assert.deepEqual((await s.send('alice@remote.example', ['carol@example.com'])).rcpt, ['451 4.7.1'], 'not yet');

  // Disabled through the API: a new triplet is accepted at once, no restart.
  await s.security('example.com', { greylist: { enabled: false } });
  assert.deepEqual((await s.send('new@sender.example', ['carol@example.com'])).rcpt, ['250 2.1.5']);
});

test('greylisting: an entry older than greylist_expiry_days is forgotten (deferred again)', async (t) => {
  const clock: Clock = { now: Date.UTC(2026, 11, 2, 12) };
  const s = await policyServer(t, {
    clock,
    security: { ...OFF, greylist: { enabled: true, delay_minutes: 1, whitelist_after: 100, expiry_days: 2 } },
  });
  assert.deepEqual((await s.send('a@remote.example', ['bob@example.com'])).rcpt, ['451 4.7.1']);
  clock.now += 2 * 60_000;
  assert.deepEqual((await s.send('a@remote.example', ['bob@example.com'])).rcpt, ['250 2.1.5']);
  clock.now += 3 * 86_400_000;
  assert.deepEqual((await s.send('a@remote.example', ['bob@example.com'])).rcpt, ['451 4.7.1'], 'expired');
});
