/**
 * One request and its reply over a fresh connection to a scanning daemon (clamd, spamd), and the deadline and
 * connection bound around it. Rules: the request is streamed (the message file is read in chunks and written with
 * backpressure, never held whole in memory); the reply is capped (MAX_REPLY) so a broken peer cannot grow memory;
 * the deadline covers the whole call, the wait for a slot included, and on expiry the socket and the file stream are
 * destroyed; every failure becomes a short error string (never a throw), 'timeout' for an expired deadline.
 */
import { createReadStream } from 'node:fs';
import net from 'node:net';
import type { Slots } from './slots.ts';

/** Where a daemon listens: a Unix socket path, or TCP host and port. */
export type DaemonAddress = { path: string } | { host: string; port: number };

/**
 * "host:port" (also "[::1]:3310") is TCP; anything else is a Unix socket path. The rule: a ':' and no '/' means
 * TCP (a socket path always has a '/', a host:port never does).
 */
export function parseDaemonAddress(address: string): DaemonAddress {
  if (!address.includes(':') || address.includes('/')) return { path: address };
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(i + 1));
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`not a Unix socket path or host:port: ${address}`);
  return { host, port };
}

export const describeAddress = (a: DaemonAddress): string =>
  'path' in a ? a.path : `${a.host.includes(':') ? `[${a.host}]` : a.host}:${a.port}`;

/** The biggest reply read from a daemon (a verdict line, or a header block and a symbol list). */
export const MAX_REPLY = 64 * 1024;

/** Bytes of the message read and sent per chunk. */
export const CHUNK = 64 * 1024;

export interface Request {
  address: DaemonAddress;
  /** Writes the request; `send` waits for the socket to drain (resolves false once the exchange is over). */
  write(send: (buf: Buffer | string) => Promise<boolean>, signal: AbortSignal): Promise<void>;
  /** True once `reply` holds a whole answer (the connection is then closed without waiting for the peer's end). */
  complete?(reply: Buffer): boolean;
}

export type Outcome = { ok: true; reply: Buffer } | { ok: false; error: string };

/** Reads bytes [0, limit) of a file in chunks (limit Infinity: all of it); stops when the signal aborts. */
export async function* fileChunks(path: string, limit: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  if (limit <= 0) return;
  const stream = createReadStream(path, {
    highWaterMark: CHUNK,
    end: Number.isFinite(limit) ? limit - 1 : undefined,
    signal,
  });
  try {
    for await (const chunk of stream) yield chunk as Buffer;
  } catch (e) {
    if (signal.aborted) return;
    throw new MessageReadError(e as Error);
  }
}

class MessageReadError extends Error {
  constructor(cause: Error) {
    super(`cannot read the message: ${cause.message}`);
  }
}

/**
 * Runs `work` with a signal that aborts `timeoutMs` after the call (started at once, so calls made together expire
 * together); an abort, whatever `work` was doing, gives {ok: false, error: 'timeout'}.
 */
export async function withDeadline(
  timeoutMs: number,
  work: (signal: AbortSignal) => Promise<Outcome>,
): Promise<Outcome> {
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(new Error('timeout')), timeoutMs);
  try {
    const out = await work(ctl.signal);
    return ctl.signal.aborted ? { ok: false, error: 'timeout' } : out;
  } catch (e) {
    return { ok: false, error: ctl.signal.aborted ? 'timeout' : (e as Error).message };
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `req` within a slot of `slots` (waiting for one in arrival order) unless `signal` aborts first. */
export async function exchange(req: Request, slots: Slots, signal: AbortSignal): Promise<Outcome> {
  let release: (() => void) | undefined;
  try {
    release = await slots.acquire(signal);
    return await talk(req, signal);
  } catch (e) {
    return { ok: false, error: signal.aborted ? 'timeout' : (e as Error).message };
  } finally {
    release?.();
  }
}

function talk(req: Request, signal: AbortSignal): Promise<Outcome> {
  if (signal.aborted) return Promise.resolve({ ok: false, error: 'timeout' });
  return new Promise((resolve) => {
    const where = describeAddress(req.address);
    const sock = 'path' in req.address ? net.connect({ path: req.address.path }) : net.connect(req.address);
    const parts: Buffer[] = [];
    let size = 0;
    let settled = false;
    let closed = false;
    let outcome: Outcome | undefined;
    const reply = () => Buffer.concat(parts);
    // Resolved once the socket is closed, not merely asked to close: the caller's slot is free only then.
    const finish = (o: Outcome) => {
      if (settled) return;
      settled = true;
      outcome = o;
      signal.removeEventListener('abort', onAbort);
      sock.destroy();
      if (closed) resolve(o);
    };
    // What was received counts even if the peer then resets the connection (clamd answers a stream over its limit
    // and closes while we are still writing).
    const fail = (error: string) => finish(size ? { ok: true, reply: reply() } : { ok: false, error });
    const onAbort = () => finish({ ok: false, error: 'timeout' });
    signal.addEventListener('abort', onAbort, { once: true });

    let waiting: (() => void) | null = null;
    const wake = () => {
      const w = waiting;
      waiting = null;
      w?.();
    };
    const send = async (buf: Buffer | string): Promise<boolean> => {
      if (settled || sock.destroyed) return false;
      if (sock.write(buf)) return true;
      await new Promise<void>((r) => {
        waiting = r;
      });
      return !settled && !sock.destroyed;
    };
    sock.on('drain', wake);
    sock.on('close', () => {
      closed = true;
      wake();
      fail(`${where} closed the connection without a reply`);
      resolve(outcome!);
    });
    let connected = false;
    sock.on('error', (e: NodeJS.ErrnoException) =>
      fail(connected ? `${where}: ${e.code ?? e.message}` : `cannot connect to ${where}: ${e.code ?? e.message}`),
    );
    sock.on('data', (d: Buffer) => {
      size += d.length;
      if (size > MAX_REPLY) return finish({ ok: false, error: `${where} sent a reply over ${MAX_REPLY} bytes` });
      parts.push(d);
      if (req.complete?.(reply())) finish({ ok: true, reply: reply() });
    });
    sock.on('end', () => finish({ ok: true, reply: reply() }));
    sock.once('connect', () => {
      connected = true;
      sock.setNoDelay(true);
      req.write(send, signal).catch((e: Error) => {
        if (e instanceof MessageReadError) finish({ ok: false, error: e.message });
        else fail(`${where}: ${e.message}`);
      });
    });
  });
}
