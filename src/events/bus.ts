/**
 * The in-process event bus. Rules: publish after commit; publish never waits for a listener (handlers run on a
 * later tick, their errors are logged, not thrown); a buffered subscription holds at most `capacity` events and,
 * when its reader falls behind, drops new events and tells the reader how many, in-band. The EventBus interface
 * is what a Redis pub/sub transport would implement for several nodes.
 */
import type { Topic, Topics } from './topics.ts';

export type Handler<T extends Topic> = (payload: Topics[T]) => void | Promise<void>;

export type BufferedItem<T extends Topic> = { kind: 'event'; payload: Topics[T] } | { kind: 'dropped'; count: number };

export interface EventBus {
  publish<T extends Topic>(topic: T, payload: Topics[T]): void;
  subscribe<T extends Topic>(topic: T, handler: Handler<T>): () => void;
  /** An async iterator with a bounded buffer; `return()` (or breaking a for-await) unsubscribes. */
  stream<T extends Topic>(
    topic: T,
    opts?: { capacity?: number; filter?: (p: Topics[T]) => boolean },
  ): AsyncIterableIterator<BufferedItem<T>>;
  listenerCount(topic: Topic): number;
}

export function createEventBus(onHandlerError: (topic: Topic, err: unknown) => void = () => {}): EventBus {
  const handlers = new Map<Topic, Set<Handler<Topic>>>();

  const subscribe = <T extends Topic>(topic: T, handler: Handler<T>) => {
    let set = handlers.get(topic);
    if (!set) {
      set = new Set();
      handlers.set(topic, set);
    }
    set.add(handler as Handler<Topic>);
    return () => {
      set.delete(handler as Handler<Topic>);
    };
  };

  const publish = <T extends Topic>(topic: T, payload: Topics[T]) => {
    const set = handlers.get(topic);
    if (!set || set.size === 0) return;
    const snapshot = [...set];
    setImmediate(() => {
      for (const h of snapshot) {
        try {
          const r = h(payload);
          if (r && typeof (r as Promise<void>).catch === 'function')
            (r as Promise<void>).catch((e) => onHandlerError(topic, e));
        } catch (e) {
          onHandlerError(topic, e);
        }
      }
    });
  };

  const stream = <T extends Topic>(
    topic: T,
    opts: { capacity?: number; filter?: (p: Topics[T]) => boolean } = {},
  ): AsyncIterableIterator<BufferedItem<T>> => {
    const capacity = opts.capacity ?? 1000;
    const queue: BufferedItem<T>[] = [];
    let dropped = 0;
    let waiting: ((r: IteratorResult<BufferedItem<T>>) => void) | null = null;
    let done = false;

    const unsubscribe = subscribe(topic, (payload) => {
      if (done || (opts.filter && !opts.filter(payload))) return;
      const item: BufferedItem<T> = { kind: 'event', payload };
      if (waiting) {
        const w = waiting;
        waiting = null;
        w({ value: item, done: false });
        return;
      }
      if (queue.length >= capacity) {
        dropped++;
        return;
      }
      if (dropped > 0) {
        queue.push({ kind: 'dropped', count: dropped });
        dropped = 0;
      }
      queue.push(item);
    });

    const finish = (): IteratorResult<BufferedItem<T>> => {
      done = true;
      unsubscribe();
      queue.length = 0;
      if (waiting) waiting({ value: undefined, done: true });
      waiting = null;
      return { value: undefined, done: true };
    };

    const it: AsyncIterableIterator<BufferedItem<T>> = {
      next() {
        if (done) return Promise.resolve({ value: undefined, done: true });
        const item = queue.shift();
        if (item) return Promise.resolve({ value: item, done: false });
        if (dropped > 0) {
          const count = dropped;
          dropped = 0;
          return Promise.resolve({ value: { kind: 'dropped', count }, done: false });
        }
        return new Promise((r) => {
          waiting = r;
        });
      },
      return() {
        return Promise.resolve(finish());
      },
      throw(e) {
        finish();
        return Promise.reject(e);
      },
      [Symbol.asyncIterator]() {
        return it;
      },
    };
    return it;
  };

  return {
    publish,
    subscribe,
    stream,
    listenerCount: (topic) => handlers.get(topic)?.size ?? 0,
  };
}
