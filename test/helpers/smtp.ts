// A raw SMTP client over a real socket: exact bytes in, exact replies out (multi-line replies joined).
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  code: number;
  lines: string[];
  text: string;
}

export class RawSmtp {
  private buf = '';
  private lines: string[] = [];
  private waiters: ((l: string | null) => void)[] = [];
  closed = false;
  constructor(public socket: net.Socket | tls.TLSSocket) {
    this.attach(socket);
  }

  private attach(socket: net.Socket) {
    socket.on('data', (d) => {
      this.buf += d.toString('utf8');
      for (let i = this.buf.indexOf('\r\n'); i >= 0; i = this.buf.indexOf('\r\n')) {
        this.lines.push(this.buf.slice(0, i));
        this.buf = this.buf.slice(i + 2);
      }
      while (this.lines.length && this.waiters.length) this.waiters.shift()!(this.lines.shift()!);
    });
    socket.on('close', () => {
      this.closed = true;
      for (const w of this.waiters.splice(0)) w(null);
    });
    socket.on('error', () => {});
  }

  static async connect(port: number, host = '127.0.0.1'): Promise<RawSmtp> {
    const s = net.connect(port, host);
    await new Promise((res, rej) => {
      s.once('connect', res);
      s.once('error', rej);
    });
    return new RawSmtp(s);
  }

  line(timeoutMs = 5000): Promise<string | null> {
    const l = this.lines.shift();
    if (l !== undefined) return Promise.resolve(l);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error('no SMTP reply in time')), timeoutMs);
      this.waiters.push((x) => {
        clearTimeout(t);
        resolve(x);
      });
    });
  }

  async reply(): Promise<Reply> {
    const lines: string[] = [];
    for (;;) {
      const l = await this.line();
      if (l === null) throw new Error(`connection closed after ${JSON.stringify(lines)}`);
      lines.push(l);
      if (/^\d{3} /.test(l) || /^\d{3}$/.test(l)) break;
    }
    return { code: Number(lines[lines.length - 1]!.slice(0, 3)), lines, text: lines.map((l) => l.slice(4)).join('\n') };
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  async cmd(c: string): Promise<Reply> {
    this.write(`${c}\r\n`);
    return this.reply();
  }

  /** Upgrades with STARTTLS (certificate not verified: tests use the self-signed default). */
  async starttls(): Promise<void> {
    const r = await this.cmd('STARTTLS');
    if (r.code !== 220) throw new Error(`STARTTLS refused: ${r.text}`);
    this.socket.removeAllListeners('data');
    const secure = tls.connect({ socket: this.socket, rejectUnauthorized: false });
    await new Promise((res, rej) => {
      secure.once('secureConnect', res);
      secure.once('error', rej);
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** A whole transaction; `data` is sent dot-stuffed, followed by CRLF.CRLF. Returns the final reply. */
  async send(
    from: string,
    to: string[],
    data: string | Buffer,
  ): Promise<{ mail: Reply; rcpt: Reply[]; data: Reply | null }> {
    const mail = await this.cmd(`MAIL FROM:<${from}>`);
    const rcpt: Reply[] = [];
    for (const t of to) rcpt.push(await this.cmd(`RCPT TO:<${t}>`));
    if (!rcpt.some((r) => r.code === 250)) return { mail, rcpt, data: null };
    const go = await this.cmd('DATA');
    if (go.code !== 354) return { mail, rcpt, data: go };
    // RFC 5321 4.1.1.4: the CRLF before the final "." ends the message's last line.
    const bytes = Buffer.from(data);
    const crlfEnded = bytes.length >= 2 && bytes[bytes.length - 2] === 13 && bytes[bytes.length - 1] === 10;
    this.write(Buffer.concat([dotStuff(bytes), Buffer.from(crlfEnded ? '.\r\n' : '\r\n.\r\n')]));
    return { mail, rcpt, data: await this.reply() };
  }

  close(): void {
    this.socket.destroy();
  }
}

export function dotStuff(b: Buffer): Buffer {
  return Buffer.from(b.toString('latin1').replace(/(^|\r\n)\./g, '$1..'), 'latin1');
}

export async function ehlo(port: number, name = 'client.example'): Promise<RawSmtp> {
  const c = await RawSmtp.connect(port);
  const greeting = await c.reply();
  if (greeting.code !== 220) throw new Error(`greeting ${greeting.text}`);
  const r = await c.cmd(`EHLO ${name}`);
  if (r.code !== 250) throw new Error(`EHLO ${r.text}`);
  return c;
}

export const message = (subject: string, body = 'Hello.\r\n', extra = '') =>
  `From: Alice <alice@remote.example>\r\nTo: someone\r\nSubject: ${subject}\r\nMessage-ID: <${subject.replace(/\W/g, '')}.${Date.now()}@remote.example>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n${extra}\r\n${body}`;
