// A stand-in daemon on loopback for the cases a real one will not produce on demand: one that never answers, one
// that answers slowly (to count concurrent connections), one that records exactly what it was sent. `handle` gets
// each connection; the server counts the most connections busy at once. Closed after the test.
import net from 'node:net';
import type { TestContext } from 'node:test';

export interface FakeDaemon {
  port: number;
  /** "127.0.0.1:port". */
  address: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /**
   * The most connections busy at the same time: accepted, and neither answered (the fake's end()) nor ended by the
   * client. A connection is counted one event-loop turn after its accept, once the I/O events that arrived with it
   * are handled: the client closes a connection before it opens the next (that is the bound), but the server may
   * see the new connection before the old one's end in the same turn, and would otherwise over-count. Handlers
   * must read what they are sent (a silent fake: sock.resume()), or a client's end is never seen.
   */
  readonly maxBusy: number;
}

export async function startFakeDaemon(t: TestContext, handle: (sock: net.Socket) => void): Promise<FakeDaemon> {
  let busy = 0;
  let maxBusy = 0;
  let accepted = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((sock) => {
    accepted++;
    sockets.add(sock);
    let counted = false;
    let done = false;
    const idle = () => {
      if (counted && !done) busy--;
      done = true;
    };
    setImmediate(() => {
      if (done) return;
      counted = true;
      busy++;
      maxBusy = Math.max(maxBusy, busy);
    });
    sock.on('finish', idle);
    sock.on('end', idle);
    sock.on('close', () => {
      idle();
      sockets.delete(sock);
    });
    sock.on('error', () => {});
    handle(sock);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  const { port } = server.address() as net.AddressInfo;
  return {
    port,
    address: `127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get maxBusy() {
      return maxBusy;
    },
  };
}

/**
 * Reads a zINSTREAM request off `sock` and calls `done` with the chunk sizes and the bytes once the zero-length
 * chunk arrives (a fake clamd).
 */
export function readInstream(sock: net.Socket, done: (chunks: number[], data: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  let commandSeen = false;
  const chunks: number[] = [];
  const data: Buffer[] = [];
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    if (!commandSeen) {
      const nul = buf.indexOf(0);
      if (nul < 0) return;
      if (buf.subarray(0, nul).toString() !== 'zINSTREAM') return void sock.destroy();
      buf = buf.subarray(nul + 1);
      commandSeen = true;
    }
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (n === 0) return done(chunks, Buffer.concat(data));
      if (buf.length < 4 + n) return;
      chunks.push(n);
      data.push(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
    }
  });
}

/** Reads a spamc request off `sock` and calls `done` with its header lines and body (a fake spamd). */
export function readSpamc(sock: net.Socket, done: (head: string[], body: Buffer) => void): void {
  let buf = Buffer.alloc(0);
  let fired = false;
  sock.on('data', (d: Buffer) => {
    if (fired) return;
    buf = Buffer.concat([buf, d]);
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.subarray(0, end).toString('latin1').split('\r\n');
    const length = Number(/^Content-length: (\d+)$/im.exec(head.join('\n'))?.[1] ?? 0);
    if (buf.length < end + 4 + length) return;
    fired = true;
    done(head, buf.subarray(end + 4, end + 4 + length));
  });
}
