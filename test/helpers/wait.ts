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
