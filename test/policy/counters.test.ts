// The in-memory sliding-window counters (src/policy/counters.ts): limits, sliding, independence, sweep, the
// documented error bound and retry-after.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createMemoryCounters } from '../../src/policy/counters.ts';

const W = 60_000;
const T0 = 10 * W; // the start of a fixed window

/** The most allowed events in any sliding window (t - W, t] over a list of allowed times (sorted). */
function maxInSlidingWindow(times: number[], w: number): number {
  let max = 0;
  let lo = 0;
  for (let hi = 0; hi < times.length; hi++) {
    while (times[lo]! <= times[hi]! - w) lo++;
    max = Math.max(max, hi - lo + 1);
  }
  return max;
}

test('the Nth take inside the window is allowed, the (N+1)th refused, and refusals are not counted', () => {
  const c = createMemoryCounters();
  for (let i = 1; i <= 5; i++)
    assert.deepEqual(c.take('k', 5, W, T0 + i), { allowed: true, count: i, retryAfterMs: 0 });
  const refused = c.take('k', 5, W, T0 + 10);
  assert.equal(refused.allowed, false);
  assert.equal(refused.count, 5);
  // Hammering while refused changes nothing: the next window still sees exactly 5 in the previous one.
  for (let i = 0; i < 100; i++) assert.equal(c.take('k', 5, W, T0 + 20 + i).allowed, false);
  // Half-way through the next window the estimate is 5 * 0.5 = 2.5: two more fit (2.5 + 1, 3.5 + 1 <= 5), not three.
  const half = T0 + W + W / 2;
  assert.equal(c.take('k', 5, W, half).allowed, true);
  assert.equal(c.take('k', 5, W, half).allowed, true);
  assert.equal(c.take('k', 5, W, half).allowed, false);
});

test('after the window has slid past, the full limit is allowed again', () => {
  const c = createMemoryCounters();
  for (let i = 0; i < 3; i++) assert.equal(c.take('k', 3, W, T0 + W - 1).allowed, true);
  assert.equal(c.take('k', 3, W, T0 + W - 1).allowed, false);
  // Just after the boundary the previous window still weighs almost fully.
  assert.equal(c.take('k', 3, W, T0 + W + 1).allowed, false);
  // Two windows on, nothing is left.
  for (let i = 0; i < 3; i++) assert.equal(c.take('k', 3, W, T0 + 2 * W + 5).allowed, true);
  assert.equal(c.take('k', 3, W, T0 + 2 * W + 5).allowed, false);
});

test('a changed limit applies on the next take; a changed window carries the current count over', () => {
  const c = createMemoryCounters();
  for (let i = 0; i < 3; i++) assert.equal(c.take('k', 10, W, T0 + 1).allowed, true);
  assert.equal(c.take('k', 3, W, T0 + 2).allowed, false, 'lowered to 3: the 4th is refused at once');
  assert.equal(c.take('k', 4, W, T0 + 3).allowed, true, 'raised to 4: one more fits at once');
  // A new window length (10 min): the 4 counted events move into the new window, nothing is forgotten.
  assert.equal(c.take('k', 4, 10 * W, T0 + 4).allowed, false);
  assert.equal(c.take('k', 5, 10 * W, T0 + 5).count, 5);
});

test('keys are independent', () => {
  const c = createMemoryCounters();
  assert.equal(c.take('a', 1, W, T0).allowed, true);
  assert.equal(c.take('a', 1, W, T0).allowed, false);
  assert.equal(c.take('b', 1, W, T0).allowed, true);
  assert.equal(c.take('b', 1, 2 * W, T0).allowed, false, 'same key, another window length: still one key');
  assert.equal(c.take('c', 1, W, T0).allowed, true);
});

test('sweep drops the keys whose windows have passed and keeps the others', () => {
  const c = createMemoryCounters();
  c.take('old', 5, W, T0);
  c.take('recent', 5, W, T0 + W);
  c.take('long', 5, 10 * W, T0);
  assert.equal(c.sweep(T0 + 2 * W - 1), 0, 'the old key still weighs in its next window');
  assert.equal(c.sweep(T0 + 2 * W), 1);
  assert.equal(c.size, 2);
  assert.equal(c.take('old', 1, W, T0 + 2 * W).allowed, true, 'a swept key starts afresh');
  assert.equal(c.sweep(T0 + 20 * W), 3);
  assert.equal(c.size, 0);
});

test('memory is per key, not per event: a million events in a window keep one small record', () => {
  const c = createMemoryCounters();
  const L = 1_000_000;
  let allowed = 0;
  for (let i = 0; i < L + 10; i++) if (c.take('big', L, W, T0 + (i % W)).allowed) allowed++;
  assert.equal(allowed, L);
  assert.equal(c.size, 1);
});

test('error bound: no fixed window over the limit, no sliding window at 2x the limit, and the worst case is real', () => {
  const c = createMemoryCounters();
  const L = 100;
  const allowed: number[] = [];
  // A burst of L at the last millisecond of a window, then one attempt every millisecond of the next window:
  // each is allowed as soon as the previous window's weight has decayed enough.
  for (let i = 0; i < L; i++) if (c.take('k', L, W, T0 + W - 1).allowed) allowed.push(T0 + W - 1);
  for (let t = T0 + W; t < T0 + 2 * W; t++) if (c.take('k', L, W, t).allowed) allowed.push(t);
  const inWindow = (s: number) => allowed.filter((t) => t >= s && t < s + W).length;
  assert.equal(inWindow(T0), L);
  assert.ok(inWindow(T0 + W) <= L);
  const worst = maxInSlidingWindow(allowed, W);
  assert.ok(worst < 2 * L, `sliding window held ${worst}`);
  assert.ok(worst >= 1.9 * L, `the documented worst case is reached (${worst})`);
});

test('error bound: steady traffic at twice the limit is held within 5% of the limit in every sliding window', () => {
  const c = createMemoryCounters();
  const L = 1000;
  const allowed: number[] = [];
  const step = W / (2 * L);
  for (let t = T0; t < T0 + 20 * W; t += step)
    if (c.take('k', L, W, Math.floor(t)).allowed) allowed.push(Math.floor(t));
  const worst = maxInSlidingWindow(allowed, W);
  assert.ok(worst <= 1.05 * L, `sliding window held ${worst}`);
  // And not starved: over the 20 windows about L per window got through.
  assert.ok(allowed.length >= 20 * L * 0.95, `${allowed.length} allowed`);
});

test('retryAfterMs is exact: refused one millisecond before it, allowed at it', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.integer({ min: 0, max: 3 * W }), { minLength: 1, maxLength: 200 }),
      (limit, offsets) => {
        const times = offsets.map((o) => T0 + o).sort((a, b) => a - b);
        const at = (n: number) => {
          // Replays the same history into a fresh counter, then takes once at n.
          const c = createMemoryCounters();
          for (const t of times) c.take('k', limit, W, t);
          return c.take('k', limit, W, n);
        };
        const last = times.at(-1)!;
        const r = at(last);
        if (r.allowed) return;
        assert.ok(r.retryAfterMs > 0);
        assert.equal(at(last + r.retryAfterMs).allowed, true);
        if (r.retryAfterMs > 1) assert.equal(at(last + r.retryAfterMs - 1).allowed, false);
      },
    ),
    { numRuns: 300 },
  );
});
