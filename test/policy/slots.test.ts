// The connection bound: FIFO hand-over, aborts leave the queue, release is idempotent.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createSlots } from '../../src/policy/slots.ts';

test('at most max holders; released slots go to waiters in arrival order', async () => {
  const s = createSlots(2);
  const order: number[] = [];
  const a = await s.acquire();
  const b = await s.acquire();
  const waiters = [3, 4, 5].map((n) =>
    s.acquire().then((release) => {
      order.push(n);
      return release;
    }),
  );
  assert.equal(s.active, 2);
  assert.equal(s.waiting, 3);
  a();
  a(); // twice: frees one slot, once
  const r3 = await waiters[0]!;
  assert.deepEqual(order, [3]);
  assert.equal(s.active, 2);
  assert.equal(s.waiting, 2);
  b();
  r3();
  const [r4, r5] = await Promise.all([waiters[1]!, waiters[2]!]);
  assert.deepEqual(order, [3, 4, 5]);
  r4!();
  r5!();
  assert.equal(s.active, 0);
});

test('an aborted waiter leaves the queue and never holds a slot', async () => {
  const s = createSlots(1);
  const held = await s.acquire();
  const ctl = new AbortController();
  const gone = s.acquire(ctl.signal);
  const next = s.acquire();
  ctl.abort(new Error('timeout'));
  await assert.rejects(gone, /timeout/);
  assert.equal(s.waiting, 1);
  held();
  const r = await next;
  assert.equal(s.active, 1);
  r();
  await assert.rejects(s.acquire(AbortSignal.abort(new Error('late'))), /late/);
  assert.equal(s.active, 0);
  assert.throws(() => createSlots(0), RangeError);
});
