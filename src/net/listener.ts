/**
 * A listener: one port of one protocol. It sits below the front ends (smtp/, imap/ and http/ implement Bindable);
 * the composition root (server/app.ts) creates one per port. Rules: nothing here imports a front end; port 0
 * means disabled (never bound); start() rejects when the port cannot be bound (the caller aborts start-up);
 * stop() stops accepting at once and resolves when in-flight sessions have ended or `graceMs` has passed, after
 * which the protocol closes what remains.
 */
export type ListenerState = 'disabled' | 'starting' | 'listening' | 'failed' | 'stopping' | 'stopped';

export interface ListenerStatus {
  port: number;
  address: string;
  state: ListenerState;
  error?: string;
}

export interface Listener {
  readonly name: string;
  status(): ListenerStatus;
  start(): Promise<void>;
  stop(graceMs: number): Promise<void>;
}

/** What a protocol implementation provides: bind, and close gracefully within a grace period. */
export interface Bindable {
  listen(port: number, address: string): Promise<void>;
  close(graceMs: number): Promise<void>;
}

export function createListener(name: string, port: number, address: string, make: () => Bindable): Listener {
  let state: ListenerState = port === 0 ? 'disabled' : 'stopped';
  let error: string | undefined;
  let impl: Bindable | undefined;
  return {
    name,
    status: () => ({ port, address, state, ...(error ? { error } : {}) }),
    async start() {
      if (port === 0) return;
      state = 'starting';
      impl = make();
      try {
        await impl.listen(port, address);
        state = 'listening';
      } catch (e) {
        state = 'failed';
        const err = e as NodeJS.ErrnoException;
        error = err.code === 'EADDRINUSE' ? `${address}:${port} is already in use` : err.message;
        throw new Error(`${name}: cannot listen on ${address}:${port}: ${error}`);
      }
    },
    async stop(graceMs) {
      if (!impl || state !== 'listening') return;
      state = 'stopping';
      await impl.close(graceMs);
      state = 'stopped';
    },
  };
}

/** listen() on a net.Server-like object as a promise. */
export function listenPromise(
  server: {
    listen(port: number, host: string): unknown;
    once(ev: string, fn: (...a: unknown[]) => void): unknown;
    off(ev: string, fn: (...a: unknown[]) => void): unknown;
  },
  port: number,
  address: string,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (e: unknown) => reject(e);
    server.once('error', onError);
    server.once('listening', () => {
      server.off('error', onError);
      resolve();
    });
    server.listen(port, address);
  });
}
