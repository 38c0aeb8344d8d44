/**
 * The ClamAV daemon client: scans a spooled message file with clamd's zINSTREAM command and reports what clamd
 * said, nothing more (the pipeline turns a virus into a verdict).
 * Rules:
 *  - The file is streamed in CHUNK-sized chunks, each prefixed by its length as 4 big-endian bytes, then a zero
 *    length ends the stream; at most `maxBytes` bytes are sent (the domain's clamav_max_scan_size). A bigger
 *    message is scanned up to that size and judged on that prefix, as clamd itself does with StreamMaxLength:
 *    keep maxBytes at or under the daemon's StreamMaxLength (default 25M), or clamd answers "INSTREAM size limit
 *    exceeded" (reported as an error).
 *  - At most `maxConnections` scans (and pings) talk to clamd at once; the others wait in arrival order. The timeout
 *    covers the whole call, the wait included; expiry gives {status: 'error', error: 'timeout'}.
 *  - A fresh connection per scan, not an IDSESSION: clamd closes idle sessions (IdleTimeout), ends a session on any
 *    ERROR, and answers session commands tagged by id and possibly out of order, so a reusable session needs a
 *    reconnecting, reply-matching layer; a local connect (Unix socket or loopback) costs well under a millisecond
 *    beside a scan, and the connection bound already keeps clamd's thread pool from being flooded.
 *  - Never throws: a refused connection, a missing socket, an unreadable file or an odd reply is {status: 'error'}.
 */
import { type DaemonAddress, exchange, fileChunks, parseDaemonAddress, withDeadline } from './exchange.ts';
import { createSlots } from './slots.ts';

export type ClamdResult =
  | { status: 'clean' }
  | { status: 'virus'; signature: string }
  | { status: 'error'; error: string };

export interface ClamdOptions {
  /** security.clamav.socket_path: a Unix socket path, or "host:port" for TCP (a ':' and no '/'). */
  address: string;
  /** The whole call, queueing included (security.clamav.timeout, in milliseconds here). */
  timeoutMs: number;
  /** Scans talking to clamd at once (keep it at or below clamd's MaxThreads). */
  maxConnections: number;
}

export interface Clamd {
  readonly address: DaemonAddress;
  /** Scans the first `maxBytes` bytes of the file at `path`. */
  scanFile(path: string, maxBytes: number): Promise<ClamdResult>;
  /** zPING answered PONG within the timeout. */
  ping(): Promise<boolean>;
}

/** A chunk's length prefix; a zero length ends the stream. */
const lengthPrefix = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

/** zINSTREAM and zPING answers end with a NUL byte. */
const nulTerminated = (reply: Buffer) => reply.includes(0);

/** "stream: OK", "stream: <signature> FOUND", "<text> ERROR" (without the trailing NUL). */
export function parseScanReply(reply: string): ClamdResult {
  const text = reply.replace(/\0[\s\S]*$/, '').trim();
  if (text === 'stream: OK') return { status: 'clean' };
  const found = /^stream: (.+) FOUND$/.exec(text);
  if (found) return { status: 'virus', signature: found[1]! };
  if (text.endsWith(' ERROR')) return { status: 'error', error: `clamd: ${text.slice(0, -' ERROR'.length)}` };
  return { status: 'error', error: `clamd sent an unexpected reply: ${JSON.stringify(text.slice(0, 200))}` };
}

export function createClamd(opts: ClamdOptions): Clamd {
  const address = parseDaemonAddress(opts.address);
  const slots = createSlots(opts.maxConnections);
  return {
    address,
    async scanFile(path, maxBytes) {
      const limit = Math.max(0, Math.floor(maxBytes));
      const out = await withDeadline(opts.timeoutMs, (deadline) =>
        exchange(
          {
            address,
            complete: nulTerminated,
            async write(send, signal) {
              if (!(await send('zINSTREAM\0'))) return;
              for await (const chunk of fileChunks(path, limit, signal)) {
                // One write per chunk: the prefix and the bytes leave together.
                if (!(await send(Buffer.concat([lengthPrefix(chunk.length), chunk])))) return;
              }
              await send(lengthPrefix(0));
            },
          },
          slots,
          deadline,
        ),
      );
      return out.ok ? parseScanReply(out.reply.toString('utf8')) : { status: 'error', error: out.error };
    },
    async ping() {
      const out = await withDeadline(opts.timeoutMs, (deadline) =>
        exchange(
          { address, complete: nulTerminated, write: async (send) => void (await send('zPING\0')) },
          slots,
          deadline,
        ),
      );
      return out.ok && out.reply.toString('latin1').replace(/\0.*$/s, '').trim() === 'PONG';
    },
  };
}
