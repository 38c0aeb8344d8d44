/**
 * The one raw IMAP client of the tests and the IMAP benchmark: it sends exactly the bytes given and hands back
 * responses as received (literals inline), so tests can assert the wire format (imapflow and imaplib hide it).
 *
 * - `cmd(command)` tags a command, sends it and resolves with every line up to its tagged reply; `until(tag)` does
 *   the same for a command written by hand with `write()` (pipelining, synchronizing literals, IDLE).
 * - `readLine()` returns the next line that no command claimed (the greeting, "+" continuations, IDLE updates).
 * - `onUnsolicited(fn)` passes such lines to `fn` as they arrive instead (the benchmark's IDLE sessions).
 * - `startTls()` upgrades the connection in place after "OK Begin TLS" (and fails if the server sent anything
 *   in plaintext after that reply: a plaintext injection).
 * - Differential tests parse lines into values with test/imap/mime/imapWire.ts.
 *
 * Lines are parsed once per chunk, without a promise per line (the benchmark drives thousands of sessions with
 * it); a line is a latin1 string, so `Buffer.from(line, 'latin1')` gives its bytes back exactly.
 */
import net from 'node:net';
import tls from 'node:tls';

export interface ImapReply {
  /** Untagged, continuation and other tags' lines received before the tagged one (literals inline, as received). */
  lines: string[];
  /** The tagged line, e.g. "A1 OK [READ-WRITE] SELECT completed". */
  tagged: string;
  /** Everything received for this command, lines joined with CRLF. */
  raw: string;
}

interface Pending {
  tag: string;
  lines: string[];
  resolve(r: ImapReply): void;
  reject(e: Error): void;
  timer?: NodeJS.Timeout;
}

const CRLF = Buffer.from('\r\n');

export class RawImap {
  private buf: Buffer = Buffer.alloc(0);
  /** Start of the line being assembled, start of its current segment (after the last literal), scan position. */
  private lineStart = 0;
  private segStart = 0;
  private scan = 0;
  private pending: Pending | null = null;
  /** Lines no command claimed, for readLine(). */
  private queue: string[] = [];
  private wake: (() => void) | null = null;
  private unsolicited: ((line: string) => void) | null = null;
  private closeWaiters: (() => void)[] = [];
  private n = 0;
  closed = false;
  greeting = '';

  private constructor(public socket: net.Socket) {
    socket.setNoDelay(true);
    this.attach(socket);
  }

  /** Connects to 127.0.0.1:`port` (implicit TLS with `tls`, certificate not checked) and reads the greeting. */
  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<RawImap> {
    const socket = opts.tls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => {
        socket.off('error', reject);
        resolve();
      });
      socket.once('error', reject);
    });
    const c = new RawImap(socket);
    c.greeting = await c.readLine();
    return c;
  }

  private attach(socket: net.Socket): void {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('close', () => {
      this.closed = true;
      const e = new Error(`connection closed; last received: ${this.tail()}`);
      const p = this.pending;
      this.pending = null;
      if (p) {
        clearTimeout(p.timer);
        p.reject(e);
      }
      this.wake?.();
      for (const w of this.closeWaiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  private tail(): string {
    return JSON.stringify(this.buf.toString('latin1').slice(-500));
  }

  private onData(d: Buffer): void {
    this.buf = this.lineStart >= this.buf.length ? d : Buffer.concat([this.buf.subarray(this.lineStart), d]);
    this.segStart -= this.lineStart;
    this.scan = Math.max(0, this.scan - this.lineStart);
    this.lineStart = 0;
    for (;;) {
      const i = this.buf.indexOf(CRLF, this.scan);
      if (i < 0) {
        this.scan = Math.max(this.segStart, this.buf.length - 1);
        return;
      }
      // A segment ending in {n} (or {n+}) announces a literal of n bytes: the line goes on after them.
      if (i > this.segStart && this.buf[i - 1] === 0x7d) {
        const open = this.buf.lastIndexOf(0x7b, i - 1);
        const m = open >= this.segStart ? /^(\d+)\+?$/.exec(this.buf.toString('latin1', open + 1, i - 1)) : null;
        if (m) {
          const end = i + 2 + Number(m[1]);
          if (this.buf.length < end) {
            this.scan = i; // the rest of the literal has not arrived yet
            return;
          }
          this.segStart = this.scan = end;
          continue;
        }
      }
      const line = this.buf.toString('latin1', this.lineStart, i);
      this.lineStart = this.segStart = this.scan = i + 2;
      this.dispatch(line);
    }
  }

  private dispatch(line: string): void {
    const p = this.pending;
    if (p) {
      if (line.startsWith(`${p.tag} `)) {
        this.pending = null;
        clearTimeout(p.timer);
        p.resolve({ lines: p.lines, tagged: line, raw: [...p.lines, line].join('\r\n') });
      } else p.lines.push(line);
      return;
    }
    if (this.unsolicited) this.unsolicited(line);
    else {
      this.queue.push(line);
      this.wake?.();
    }
  }

  /** The next line no command claimed (with any literals it announces), without the final CRLF. */
  async readLine(timeoutMs = 10_000): Promise<string> {
    for (;;) {
      const line = this.queue.shift();
      if (line !== undefined) return line;
      if (this.closed) throw new Error(`connection closed; last received: ${this.tail()}`);
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.wake = null;
          reject(new Error(`timeout waiting for an IMAP line; last received: ${this.tail()}`));
        }, timeoutMs);
        this.wake = () => {
          this.wake = null;
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Passes lines no command claims to `fn` as they arrive (queued ones first); null queues them again. */
  onUnsolicited(fn: ((line: string) => void) | null): void {
    this.unsolicited = fn;
    if (fn) for (const l of this.queue.splice(0)) fn(l);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  nextTag(): string {
    return `A${++this.n}`;
  }

  /**
   * Sends `tag command` (a Buffer may carry LITERAL+ literals inline) and resolves with everything up to the
   * tagged reply. `timeoutMs` 0 waits without a timer (the benchmark).
   */
  cmd(command: string | Buffer, timeoutMs = 10_000): Promise<ImapReply> {
    const tag = this.nextTag();
    const reply = this.until(tag, timeoutMs);
    this.write(
      typeof command === 'string' ? `${tag} ${command}\r\n` : Buffer.concat([Buffer.from(`${tag} `), command, CRLF]),
    );
    return reply;
  }

  /** Like cmd(), but throws unless the reply is OK. */
  async ok(command: string | Buffer, timeoutMs = 10_000): Promise<ImapReply> {
    const r = await this.cmd(command, timeoutMs);
    if (!/^\S+ OK\b/.test(r.tagged)) throw new Error(`${String(command).slice(0, 80)}: ${r.tagged}`);
    return r;
  }

  /** Collects lines (queued ones first) until the one tagged `tag`; one command may be outstanding at a time. */
  until(tag: string, timeoutMs = 10_000): Promise<ImapReply> {
    if (this.pending) throw new Error(`until(${tag}) while ${this.pending.tag} is outstanding`);
    const lines: string[] = [];
    while (this.queue.length) {
      const l = this.queue.shift()!;
      if (l.startsWith(`${tag} `)) return Promise.resolve({ lines, tagged: l, raw: [...lines, l].join('\r\n') });
      lines.push(l);
    }
    if (this.closed) return Promise.reject(new Error(`connection closed before ${tag}; got ${JSON.stringify(lines)}`));
    return new Promise((resolve, reject) => {
      const p: Pending = { tag, lines, resolve, reject };
      if (timeoutMs > 0)
        p.timer = setTimeout(() => {
          if (this.pending === p) this.pending = null;
          reject(new Error(`timeout waiting for ${tag}; got ${JSON.stringify(lines)}, then ${this.tail()}`));
        }, timeoutMs);
      this.pending = p;
    });
  }

  async login(user: string, pass: string): Promise<void> {
    const r = await this.cmd(`LOGIN ${user} ${pass}`);
    if (!/ OK /.test(r.tagged)) throw new Error(`login failed: ${r.tagged}`);
  }

  /** Starts TLS on this connection (after the server's OK to STARTTLS); resolves with the TLS protocol. */
  async startTls(): Promise<string> {
    if (this.queue.length || this.lineStart < this.buf.length)
      throw new Error(
        `plaintext after the STARTTLS reply: ${JSON.stringify([...this.queue, this.buf.toString('latin1', this.lineStart)])}`,
      );
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('close');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.buf = Buffer.alloc(0);
    this.lineStart = this.segStart = this.scan = 0;
    this.attach(secure);
    return secure.getProtocol() ?? '';
  }

  /** Resolves when the server has closed the connection; fails after `timeoutMs`. */
  async waitClosed(timeoutMs = 10_000): Promise<void> {
    if (this.closed) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`connection still open after ${timeoutMs} ms; last received: ${this.tail()}`)),
        timeoutMs,
      );
      this.closeWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}
