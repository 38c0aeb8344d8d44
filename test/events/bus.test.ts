import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createEventBus } from '../../src/events/bus.ts';
import type { Topics } from '../../src/events/topics.ts';

const change = (name: string): Topics['domain.changed'] => ({ name, action: 'updated', fields: [] });

test('publish returns before listeners run; a slow or failing listener does not block the others', async () => {
  const errors: unknown[] = [];
  const bus = createEventBus((_t, e) => errors.push(e));
  const seen: string[] = [];
  let releaseSlow!: () => void;
  bus.subscribe('domain.changed', () => new Promise<void>((r) => (releaseSlow = r)));
  bus.subscribe('domain.changed', () => {
    throw new Error('boom');
  });
  bus.subscribe('domain.changed', (e) => {
    seen.push(e.name);
  });
  // publish is synchronous and schedules delivery: nothing has run when it returns, and the listener that
  // never settles does not hold up the rest (no wall-clock bound here: a GC pause is not a defect).
  bus.publish('domain.changed', change('a.example'));
  assert.deepEqual(seen, []);
  assert.equal(errors.length, 0);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['a.example']);
  assert.equal((errors[0] as Error).message, 'boom');
  releaseSlow();
});

test('unsubscribe stops delivery', async () => {
  const bus = createEventBus();
  const seen: string[] = [];
  const off = bus.subscribe('domain.changed', (e) => {
    seen.push(e.name);
  });
  off();
  bus.publish('domain.changed', change('x'));
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, []);
  assert.equal(bus.listenerCount('domain.changed'), 0);
});

test('a buffered stream keeps order, drops past its capacity and reports the gap in-band', async () => {
  const bus = createEventBus();
  const it = bus.stream('domain.changed', { capacity: 3, filter: (e) => e.name !== 'skip' });
  for (const n of ['1', 'skip', '2', '3', '4', '5', '6']) bus.publish('domain.changed', change(n));
  await new Promise((r) => setImmediate(r)); // publish hands events over on the next check phase: they are in
  const got: string[] = [];
  for (let i = 0; i < 4; i++) {
    const { value } = await it.next();
    got.push(value!.kind === 'event' ? value!.payload.name : `dropped:${value!.count}`);
  }
  assert.deepEqual(got, ['1', '2', '3', 'dropped:3']);
  bus.publish('domain.changed', change('7'));
  const next = await it.next();
  assert.equal(next.value!.kind === 'event' && next.value!.payload.name, '7');
  await it.return!();
  assert.equal(bus.listenerCount('domain.changed'), 0);
  assert.equal((await it.next()).done, true);
});
