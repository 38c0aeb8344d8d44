import type { EventBus } from '../../src/events/bus.ts';
import type { Topic } from '../../src/events/topics.ts';

/**
 * Waiting for a condition that has no event to wait on (a file appearing, a daemon starting to accept, a row being
 * written by another process): polls `check` until it returns something truthy and returns that, or fails with
 * `what` and, if `detail` is given, what it reports at the deadline. Not a sleep: it returns as soon as the
 * condition holds, and a condition that never holds fails the test clearly instead of letting it go on.
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  what: string,
  opts: { timeoutMs?: number; intervalMs?: number; detail?: () => string } = {},
): Promise<NonNullable<T>> {
  const deadline = Date.now() + (opts.timeoutMs ?? 10_000);
  for (;;) {
    const v = await check();
    if (v) return v as NonNullable<T>;
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${opts.timeoutMs ?? 10_000} ms waiting for ${what}${opts.detail ? `: ${opts.detail()}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 10));
  }
}

/**
 * A relative time bound: `ms` (say, a notification's latency) must stay within `factor` times `baselineMs`, a
 * comparable operation timed in the same test on the same machine (say, the delivery that caused it), plus
 * `slackMs` for timer and scheduling granularity. A loaded machine slows both alike, so this fails on a real
 * regression (polling, batching, a stall) rather than on a busy CI box.
 */
export function assertRelative(ms: number, baselineMs: number, what: string, factor = 2, slackMs = 50): void {
  const bound = factor * baselineMs + slackMs;
  if (!(ms <= bound))
    throw new Error(
      `${what}: ${ms.toFixed(1)} ms, more than ${factor} x the baseline ${baselineMs.toFixed(1)} ms + ${slackMs} ms`,
    );
}

/**
 * Resolves once the event bus has a listener more on `topic` than `before` (`bus.listenerCount(topic)` read before
 * subscribing): the server has registered a subscription (GraphQL over WebSocket or SSE), so events published
 * from now on reach it.
 */
export function subscribed(bus: EventBus, topic: Topic, before: number, timeoutMs = 10_000): Promise<boolean> {
  return waitUntil(() => bus.listenerCount(topic) > before, `a subscription on ${topic}`, {
    timeoutMs,
    detail: () => `${bus.listenerCount(topic)} listener(s), ${before} before`,
  });
}
