/**
 * A bound on concurrent work (connections to a scanning daemon): at most `max` holders at once, the rest wait in
 * arrival order. Rules: FIFO, and a released slot goes straight to the oldest waiter, so a newcomer never overtakes
 * someone already queued; a waiter whose signal aborts leaves the queue and never holds a slot; release is
 * idempotent (calling it twice frees one slot, once).
 */

export interface Slots {
  /** Resolves with the release function once a slot is free; rejects with the signal's reason if it aborts first. */
  acquire(signal?: AbortSignal): Promise<() => void>;
  /** Slots held now. */
  readonly active: number;
  /** Callers queued now. */
  readonly waiting: number;
}

interface Waiter {
  grant(): void;
}

export function createSlots(max: number): Slots {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`max must be a positive whole number, not ${max}`);
  let active = 0;
  const queue: Waiter[] = [];

  const releaser = () => {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const next = queue.shift();
      if (next)
        next.grant(); // the slot passes on; active stays the same
      else active--;
    };
  };

  return {
    get active() {
      return active;
    },
    get waiting() {
      return queue.length;
    },
    acquire(signal) {
      if (signal?.aborted) return Promise.reject(signal.reason);
      if (active < max) {
        active++;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve, reject) => {
        const onAbort = () => {
          const i = queue.indexOf(waiter);
          if (i >= 0) queue.splice(i, 1);
          reject(signal!.reason);
        };
        const waiter: Waiter = {
          grant() {
            signal?.removeEventListener('abort', onAbort);
            resolve(releaser());
          },
        };
        queue.push(waiter);
        signal?.addEventListener('abort', onAbort, { once: true });
      });
    },
  };
}
