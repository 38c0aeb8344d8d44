// A scripted SMTP peer on loopback for what a real server will not do on demand (a 421 or 554 greeting, EHLO
// refused, a server that stops answering or closes in the middle of DATA) and for checking the client's wire
// behaviour (which commands arrived in one read: pipelining; the DATA bytes as sent, dot-stuffing included). It
// speaks just enough SMTP: default replies for each command, overridable per command by `reply`. Closed after the
// test.
import net from 'node:net';
import type { TestContext } from 'node:test';

export interface PeerSession {
  /** Each read as received (latin1). */
  chunks: string[];
  /** Each command line, without CRLF, in order. */
  commands: string[];
  /** Each DATA payload as sent (stuffed), up to and including the CRLF.CRLF. */
  data: Buffer[];
  closed: boolean;
  sock: net.Socket;
}

/** What `reply` returns for a command: reply text (CRLF added), 'close', 'silent' (no answer), or undefined (default). */
export type PeerAnswer = string | 'close' | 'silent' | undefined;

export interface PeerOptions {
  /** The greeting line ("220 peer.test ESMTP" by default); null: say nothing. */
  greeting?: string | null;
  /** EHLO keywords after the first line (default PIPELINING, 8BITMIME, ENHANCEDSTATUSCODES). */
  extensions?: string[];
  reply?: (command: string, s: PeerSession) => PeerAnswer;
  /** The reply once a message is complete (default "250 2.0.0 Ok: queued"). */
  afterData?: (s: PeerSession) => PeerAnswer;
  /** While DATA is being received: 'close' closes once this many bytes have come. */
  closeAfterDataBytes?: number;
}

export interface ScriptedPeer {
  port: number;
  sessions: PeerSession[];
}

const DEFAULTS: [RegExp, string][] = [
  [/^HELO /i, '250 peer.test'],
  [/^MAIL FROM:/i, '250 2.1.0 Ok'],
  [/^RCPT TO:/i, '250 2.1.5 Ok'],
  [/^DATA$/i, '354 End data with <CR><LF>.<CR><LF>'],
  [/^RSET$/i, '250 2.0.0 Ok'],
  [/^NOOP$/i, '250 2.0.0 Ok'],
];

export async function startScriptedPeer(t: TestContext, opts: PeerOptions = {}): Promise<ScriptedPeer> {
  const sessions: PeerSession[] = [];
  const sockets = new Set<net.Socket>();
  const exts = opts.extensions ?? ['PIPELINING', '8BITMIME', 'ENHANCEDSTATUSCODES'];
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.setNoDelay(true);
    const s: PeerSession = { chunks: [], commands: [], data: [], closed: false, sock };
    sessions.push(s);
    sock.on('close', () => {
      s.closed = true;
      sockets.delete(sock);
    });
    sock.on('error', () => {});
    let buf: Buffer = Buffer.alloc(0);
    let inData = false;
    const answer = (a: PeerAnswer, fallback: string) => {
      if (a === 'silent') return;
      if (a === 'close') {
        sock.destroy();
        return;
      }
      sock.write(`${a ?? fallback}\r\n`);
    };
    const consume = () => {
      for (;;) {
        if (inData) {
          const at = buf.length >= 3 && buf.subarray(0, 3).toString() === '.\r\n' ? 0 : buf.indexOf('\r\n.\r\n');
          if (at < 0) return;
          const end = at === 0 ? 3 : at + 5;
          s.data.push(Buffer.from(buf.subarray(0, end)));
          buf = buf.subarray(end);
          inData = false;
          answer(opts.afterData?.(s), '250 2.0.0 Ok: queued');
          continue;
        }
        const i = buf.indexOf('\r\n');
        if (i < 0) return;
        const line = buf.subarray(0, i).toString('utf8');
        buf = buf.subarray(i + 2);
        s.commands.push(line);
        const custom = opts.reply?.(line, s);
        if (custom === 'close' || custom === 'silent') {
          answer(custom, '');
          if (custom === 'close') return;
          continue;
        }
        if (custom !== undefined) {
          sock.write(`${custom}\r\n`);
          if (/^DATA$/i.test(line) && custom.startsWith('354')) inData = true;
          continue;
        }
        if (/^EHLO /i.test(line)) {
          const lines = ['peer.test', ...exts];
          sock.write(lines.map((l, k) => `250${k === lines.length - 1 ? ' ' : '-'}${l}\r\n`).join(''));
        } else if (/^QUIT$/i.test(line)) {
          sock.end('221 2.0.0 Bye\r\n');
          return;
        } else {
          const d = DEFAULTS.find(([re]) => re.test(line));
          sock.write(`${d ? d[1] : '502 5.5.2 Error: command not recognized'}\r\n`);
          if (/^DATA$/i.test(line)) inData = true;
        }
      }
    };
    let dataBytes = 0;
    sock.on('data', (d: Buffer) => {
      s.chunks.push(d.toString('latin1'));
      if (inData && opts.closeAfterDataBytes !== undefined) {
        dataBytes += d.length;
        if (dataBytes >= opts.closeAfterDataBytes) {
          sock.destroy();
          return;
        }
      }
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      consume();
    });
    if (opts.greeting !== null) sock.write(`${opts.greeting ?? '220 peer.test ESMTP'}\r\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, sessions };
}
