/**
 * A raw IMAP client for tests: sends exactly the bytes given and collects responses up to the tagged reply,
 * literals included, so tests can assert the wire format (imapflow and imaplib hide it).
 */
import net from 'node:net';
import tls from 'node:tls';

export interface ImapReply {
  /** Untagged and continuation lines (literals inline, as received). */
  lines: string[];
  /** The tagged line, e.g. "A1 OK [READ-WRITE] SELECT completed". */
  tagged: string;
  /** Everything received for this command. */
  raw: string;
}

export class RawImap {
  private buf = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  private n = 0;
  closed = false;
  greeting = '';

  private constructor(public socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.buf = Buffer.concat([this.buf, d]);
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, opts: { tls?: boolean } = {}): Promise<RawImap> {
    const socket = opts.tls
      ? tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
      : net.connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once(opts.tls ? 'secureConnect' : 'connect', () => resolve());
      socket.once('error', reject);
    });
    const c = new RawImap(socket);
    c.greeting = await c.readLine();
    return c;
  }

  private async more(timeoutMs: number): Promise<void> {
    if (this.closed) throw new Error(`connection closed; received: ${this.buf.toString('latin1').slice(0, 500)}`);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`timeout waiting for IMAP data; have: ${this.buf.toString('latin1').slice(-500)}`)),
        timeoutMs,
      );
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** One line (with any literals it announces), without the final CRLF. */
  async readLine(timeoutMs = 10_000): Promise<string> {
    let out = '';
    for (;;) {
      const i = this.buf.indexOf('\r\n');
      if (i < 0) {
        await this.more(timeoutMs);
        continue;
      }
      const line = this.buf.subarray(0, i).toString('latin1');
      const m = /\{(\d+)\}$/.exec(line);
      if (m) {
        const n = Number(m[1]);
        while (this.buf.length < i + 2 + n) await this.more(timeoutMs);
        out += `${line}\r\n${this.buf.subarray(i + 2, i + 2 + n).toString('latin1')}`;
        this.buf = this.buf.subarray(i + 2 + n);
        continue;
      }
      this.buf = this.buf.subarray(i + 2);
      return out + line;
    }
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Sends `tag command` and reads until the tagged reply. */
  async cmd(command: string, timeoutMs = 10_000): Promise<ImapReply> {
    const tag = `A${++this.n}`;
    this.write(`${tag} ${command}\r\n`);
    return this.until(tag, timeoutMs);
  }

  async until(tag: string, timeoutMs = 10_000): Promise<ImapReply> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.readLine(timeoutMs);
      if (l.startsWith(`${tag} `)) return { lines, tagged: l, raw: [...lines, l].join('\r\n') };
      lines.push(l);
    }
  }

  nextTag(): string {
    return `A${++this.n}`;
  }

  async login(user: string, pass: string): Promise<void> {
    const r = await this.cmd(`LOGIN ${user} ${pass}`);
    if (!/ OK /.test(r.tagged)) throw new Error(`login failed: ${r.tagged}`);
  }

  close(): void {
    this.socket.destroy();
  }
}
