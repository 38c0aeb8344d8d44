/**
 * When a deferred message is tried again. Rules: the n-th retry waits the n-th interval of queue.retry_schedule
 * (seconds), the last interval repeats; a jitter of up to 10% spreads retries of messages deferred together
 * (after an outage of one destination) so they do not all come back in the same second.
 */
export function retryDelayMs(
  attempts: number,
  scheduleS: readonly number[],
  random: () => number = Math.random,
): number {
  const i = Math.min(Math.max(attempts, 1), scheduleS.length) - 1;
  const base = scheduleS[i]! * 1000;
  return Math.round(base * (1 + random() * 0.1));
}
