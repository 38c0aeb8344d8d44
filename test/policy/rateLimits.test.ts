// The SMTP rate limiter (src/policy/rateLimits.ts): rules read from the domain row per call, one key per kind,
// recipient domain and subject, the tempfail result, and a Promise-returning Counters (as a Redis one would be).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Counters, createMemoryCounters } from '../../src/policy/counters.ts';
import { createRateLimiter, type RateLimitSettings } from '../../src/policy/rateLimits.ts';

const T0 = 1_000 * 3_600_000;

function domain(name: string, over: Partial<RateLimitSettings> = {}): RateLimitSettings {
  return {
    name,
    ratelimit_enabled: true,
    ratelimit_smtp_per_ip: { count: 3, window_minutes: 60 },
    ratelimit_smtp_per_user: { count: 5, window_minutes: 60 },
    ratelimit_smtp_per_domain: { count: 10, window_minutes: 60 },
    ...over,
  };
}

function limiter(counters: Counters = createMemoryCounters()) {
  const clock = { now: T0 };
  return { clock, rl: createRateLimiter({ counters, now: () => clock.now }) };
}

test('the Nth event passes, the (N+1)th is a rate_limit_exceeded tempfail naming the rule', async () => {
  const { rl } = limiter();
  const d = domain('example.com');
  for (let i = 0; i < 3; i++) assert.equal(await rl.check('smtp_per_ip', '192.0.2.1', d), null);
  // Retry after 80 minutes: the 3 events weigh on as the previous window until its weight 3 * (1 - x/60) <= 2
  // (the sliding-window counter's estimate, src/policy/counters.ts), 20 minutes into the next hour.
  assert.deepEqual(await rl.check('smtp_per_ip', '192.0.2.1', d), {
    check: 'ratelimit',
    action: 'tempfail',
    reason: 'rate_limit_exceeded',
    text: 'Rate limit exceeded, try again in 4800 seconds',
    detail: { rule: 'smtp_per_ip', subject: '192.0.2.1', limit: 3, window_minutes: 60, retry_after_s: 4800 },
  });
});

test('after the window slides the subject is allowed again', async () => {
  const { rl, clock } = limiter();
  const d = domain('example.com', { ratelimit_smtp_per_user: { count: 2, window_minutes: 1 } });
  assert.equal(await rl.check('smtp_per_user', 'a@x.org', d), null);
  assert.equal(await rl.check('smtp_per_user', 'a@x.org', d), null);
  assert.equal((await rl.check('smtp_per_user', 'a@x.org', d))?.reason, 'rate_limit_exceeded');
  clock.now += 2 * 60_000;
  assert.equal(await rl.check('smtp_per_user', 'a@x.org', d), null);
});

test('a changed rule (count, window, enabled) applies on the next call', async () => {
  const { rl } = limiter();
  const d = domain('example.com');
  for (let i = 0; i < 3; i++) assert.equal(await rl.check('smtp_per_ip', '192.0.2.1', d), null);
  assert.notEqual(await rl.check('smtp_per_ip', '192.0.2.1', d), null);
  const raised = domain('example.com', { ratelimit_smtp_per_ip: { count: 4, window_minutes: 60 } });
  assert.equal(await rl.check('smtp_per_ip', '192.0.2.1', raised), null);
  assert.equal((await rl.check('smtp_per_ip', '192.0.2.1', raised))?.detail?.limit, 4);
  const off = domain('example.com', { ratelimit_enabled: false });
  for (let i = 0; i < 10; i++) assert.equal(await rl.check('smtp_per_ip', '192.0.2.1', off), null);
  const lowered = domain('example.com', { ratelimit_smtp_per_ip: { count: 1, window_minutes: 5 } });
  const r = await rl.check('smtp_per_ip', '192.0.2.1', lowered);
  assert.equal(r?.detail?.window_minutes, 5);
  assert.equal(r?.detail?.limit, 1);
});

test('each kind, recipient domain and subject counts separately; subjects ignore case', async () => {
  const { rl } = limiter();
  const one = { count: 1, window_minutes: 60 };
  const rules = { ratelimit_smtp_per_ip: one, ratelimit_smtp_per_user: one, ratelimit_smtp_per_domain: one };
  const a = domain('a.example', rules);
  const b = domain('b.example', rules);
  assert.equal(await rl.check('smtp_per_ip', '192.0.2.1', a), null);
  assert.equal(await rl.check('smtp_per_ip', '192.0.2.1', b), null, 'another recipient domain');
  assert.equal(await rl.check('smtp_per_ip', '192.0.2.2', a), null, 'another subject');
  assert.equal(await rl.check('smtp_per_domain', '192.0.2.1', a), null, 'another kind');
  assert.equal(await rl.check('smtp_per_user', 'Bob@X.org', a), null);
  assert.equal((await rl.check('smtp_per_user', 'bob@x.org', a))?.detail?.subject, 'bob@x.org');
  assert.notEqual(await rl.check('smtp_per_ip', '192.0.2.1', a), null);
  assert.notEqual(await rl.check('smtp_per_ip', '192.0.2.1', b), null);
});

test('a Counters implementation that answers with Promises (as a Redis one would) works the same', async () => {
  const inner = createMemoryCounters();
  const keys: string[] = [];
  const remote: Counters = {
    take: async (key, limit, windowMs, now) => {
      keys.push(key);
      await new Promise((r) => setImmediate(r));
      return inner.take(key, limit, windowMs, now);
    },
    sweep: async (now) => inner.sweep(now),
  };
  const { rl } = limiter(remote);
  const d = domain('Example.COM', { ratelimit_smtp_per_domain: { count: 2, window_minutes: 10 } });
  const results = await Promise.all([1, 2, 3].map(() => rl.check('smtp_per_domain', 'x.org', d)));
  assert.equal(results.filter((r) => r === null).length, 2);
  assert.deepEqual(new Set(keys), new Set(['smtp_per_domain:example.com:x.org']));
  assert.equal(await remote.sweep(T0 + 60 * 60_000), 1);
});
