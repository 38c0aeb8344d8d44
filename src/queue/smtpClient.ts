/**
 * The outbound SMTP client: one connection to a remote MX (or relay), on which the queue runs transactions
 * (RFC 5321), pipelined when the server offers PIPELINING (RFC 2920), after STARTTLS (RFC 3207) as `tls` asks, with
 * SIZE (RFC 1870), 8BITMIME (RFC 6152), SMTPUTF8 (RFC 6531) and the DSN parameters (RFC 3461); replies carry the
 * enhanced status codes of RFC 2034 when the server sends them.
 * Rules:
 *  - It never hangs: connecting has connectTimeoutMs, every wait for a reply or for the socket to drain has
 *    commandTimeoutMs (kind 'timeout'); the socket closing at any point rejects what is pending (kind 'closed'); any
 *    such failure destroys the socket and makes the connection unusable for good.
 *  - The greeting must be 220 (else kind 'greeting', permanent for 5xx, after QUIT). EHLO, and HELO when EHLO gets
 *    5xx (then no extensions). STARTTLS: 'none' never; 'opportunistic' when offered, any certificate accepted and its
 *    validity reported in `tls` (a STARTTLS refused with a reply continues in plain text; a failed handshake is kind
 *    'tls', the caller may retry with 'none'); 'required': STARTTLS must be offered and accepted and the certificate
 *    valid for mxName (Node's roots plus `ca`), else kind 'tls' after QUIT. The certificate's name is checked with
 *    tls.checkServerIdentity against mxName. Bytes that arrive after the 220 to STARTTLS and before the handshake
 *    (a response injection) are a 'protocol' error. EHLO again after the handshake.
 *  - send(): with PIPELINING, MAIL FROM, every RCPT TO and DATA go in one write and the replies are read in order
 *    (RFC 2920 3.1); without it, one command at a time and DATA only when a recipient was accepted. When no
 *    recipient was accepted and DATA still got 354, a lone "." ends it and data is null.
 *  - Replies made by the client, nothing sent: SIZE above the server's advertised limit -> MAIL reply 552 5.3.4;
 *    SMTPUTF8 asked and not offered -> MAIL reply 553 5.6.7. When MAIL is refused (by the server or the client), every
 *    entry of `rcpts` is the MAIL reply (what a server answers RCPT after a refused MAIL says nothing about the
 *    recipient) and `data` is null.
 *  - MAIL parameters: SIZE=n when offered and envelope.size is given; BODY=8BITMIME when asked and offered (not
 *    offered: the body is sent as it is, without conversion); SMTPUTF8; RET= and ENVID= (xtext) only when DSN is
 *    offered. RCPT parameters NOTIFY= and ORCPT= (xtext) only when DSN is offered. An address or parameter with CR,
 *    LF or NUL is refused with a TypeError before anything is written.
 *  - The body (a file path or a Buffer) goes through DataEncoder (CRLF line ends, dot-stuffing, final CRLF) and ends
 *    with ".\r\n". A file is opened before anything is sent (an unreadable file: send() throws the file system
 *    error, the connection stays usable); one of at most FILE_CHUNK bytes is read then, synchronously (see
 *    openFileBody), and written with the terminator in one writev; a larger one is streamed in FILE_CHUNK reads
 *    after the 354, every write waiting for 'drain' (backpressure). A read failing in the middle of DATA destroys
 *    the connection (there is no way to abort DATA) and send() rejects with the file system error.
 *  - A reply received while no operation runs (typically a 421 before the server closes an idle connection) makes
 *    the connection unusable and the next operation fails ('protocol'), rather than taking it for its own reply. A
 *    'closed' error carries the server's last 421, if there was one, as `reply`.
 *  - One operation at a time: send/reset/quit while another runs throws. After a transaction the caller calls
 *    reset() (RSET, 250 expected) before the next one on the same connection.
 */

import { close, closeSync, fstatSync, openSync, read, readSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { DataEncoder, DOT_CRLF, encodeData } from './dataEncoder.ts';
import { makeReply, ReplyError, ReplyParser, type SmtpReply } from './smtpReply.ts';
import { orcptParam, xtext } from './xtext.ts';

export type { SmtpReply } from './smtpReply.ts';
export { formatReply } from './smtpReply.ts';

export type SmtpErrorKind = 'connect' | 'timeout' | 'greeting' | 'protocol' | 'tls' | 'closed';

export class SmtpClientError extends Error {
  kind: SmtpErrorKind;
  reply?: SmtpReply;
  /** the error is a permanent (5xx) refusal of the whole session, e.g. 554 greeting */
  permanent: boolean;
  constructor(kind: SmtpErrorKind, message: string, reply?: SmtpReply, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SmtpClientError';
    this.kind = kind;
    if (reply) this.reply = reply;
    this.permanent = kind === 'greeting' && !!reply && reply.code >= 500;
  }
}

export interface ConnectOptions {
  /** the IP address to connect to */
  host: string;
  port: number;
  /** the MX host name: SNI and certificate name check */
  mxName: string;
  /** our EHLO name (server.hostname) */
  localName: string;
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /**
   * opportunistic: STARTTLS when offered, any certificate accepted (validity reported); required: STARTTLS must be
   * offered and the certificate must be valid for mxName (else SmtpClientError kind 'tls'); none: never STARTTLS
   */
  tls: 'opportunistic' | 'required' | 'none';
  /** extra CA certificates (PEM) trusted in addition to Node's default roots */
  ca?: string | Buffer;
}

export interface TlsInfo {
  version: string;
  cipher: string;
  authorized: boolean;
  authorizationError?: string;
}

export interface Recipient {
  address: string;
  /** e.g. 'SUCCESS,FAILURE' or 'NEVER' */
  notify?: string;
  /** 'rfc822;a@b' as received (decoded; it is xtext-encoded here) */
  orcpt?: string;
}

export interface Envelope {
  /** '' for the null sender */
  from: string;
  to: Recipient[];
  size?: number;
  ret?: 'FULL' | 'HDRS';
  envid?: string;
  smtputf8?: boolean;
  eightBitMime?: boolean;
}

export interface SendResult {
  mail: SmtpReply;
  /** one per envelope.to, same order (each is the MAIL reply when MAIL was refused) */
  rcpts: SmtpReply[];
  /** null when MAIL failed or no recipient was accepted */
  data: SmtpReply | null;
}

export interface SmtpConnection {
  readonly greeting: SmtpReply;
  readonly ehlo: SmtpReply;
  /** upper-case keyword -> params */
  readonly extensions: Map<string, string>;
  readonly tls: TlsInfo | null;
  readonly remoteAddress: string;
  readonly mxName: string;
  /**
   * one transaction; `body` is a message file path or a Buffer, possibly with bare LF line ends: sent with CRLF
   * line ends and dot-stuffed (RFC 5321 4.5.2), ending CRLF.CRLF
   */
  send(envelope: Envelope, body: string | Buffer): Promise<SendResult>;
  /** RSET before reusing the connection for another transaction */
  reset(): Promise<void>;
  quit(): Promise<void>;
  /** destroys the socket */
  close(): void;
  readonly usable: boolean;
  readonly transactions: number;
}

/** The size of the reads of a message file (exported for the tests of chunk boundaries). */
export const FILE_CHUNK = 256 * 1024;
const CHUNK = FILE_CHUNK;
/** How long quit() waits for the 221 and the close at most (never more than the command timeout). */
const QUIT_WAIT_MS = 2000;

const is2xx = (r: SmtpReply) => r.code >= 200 && r.code < 300;

/**
 * A message file, opened before anything is sent: a file of at most FILE_CHUNK bytes is read whole (`whole`, fd
 * closed); a larger one stays open (`fd`) and is streamed after the 354.
 */
interface FileBody {
  fd: number;
  size: number;
  whole: Buffer | null;
}

function openFileBody(path: string): FileBody {
  const fd = openSync(path, 'r');
  try {
    const { size } = fstatSync(fd);
    if (size > FILE_CHUNK) return { fd, size, whole: null };
    const buf = Buffer.allocUnsafe(size);
    let got = 0;
    while (got < size) {
      const n = readSync(fd, buf, got, size - got, got);
      if (n === 0) break;
      got += n;
    }
    closeSync(fd);
    return { fd: -1, size, whole: got < size ? buf.subarray(0, got) : buf };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
}

const readAsync = (fd: number, buf: Buffer, position: number) =>
  new Promise<number>((resolve, reject) =>
    read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))),
  );

const closeFd = (fd: number) => {
  if (fd >= 0) close(fd, () => {});
};

/** Secure contexts trusting Node's roots plus an extra CA, by that CA's PEM: parsing ~150 roots per connection costs. */
const contexts = new Map<string, tls.SecureContext>();

function contextWithCa(ca: string | Buffer): tls.SecureContext {
  const pem = ca.toString();
  let ctx = contexts.get(pem);
  if (!ctx) {
    ctx = tls.createSecureContext({ ca: [...tls.rootCertificates, pem] });
    if (contexts.size >= 16) contexts.clear();
    contexts.set(pem, ctx);
  }
  return ctx;
}

function checkText(what: string, value: string): void {
  if (/[\r\n\0]/.test(value)) throw new TypeError(`${what} contains CR, LF or NUL: ${JSON.stringify(value)}`);
}

class Connection implements SmtpConnection {
  greeting!: SmtpReply;
  ehlo!: SmtpReply;
  extensions = new Map<string, string>();
  tls: TlsInfo | null = null;
  remoteAddress: string;
  mxName: string;
  transactions = 0;

  private sock: net.Socket;
  private readonly parser = new ReplyParser();
  /** Replies received and not yet read. */
  private readonly replies: SmtpReply[] = [];
  private waiter: { resolve: (r: SmtpReply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private drainWaiter: { resolve: () => void; reject: (e: Error) => void; timer: NodeJS.Timeout } | null = null;
  private error: SmtpClientError | null = null;
  private busy = false;
  private quitting = false;
  /** The last 421 received (the server is closing the connection). */
  private last421: SmtpReply | null = null;
  private readonly onData = (d: Buffer) => this.received(d);
  private readonly onClose = () => this.fail(new SmtpClientError('closed', `connection to ${this.where} closed`));
  private readonly onError = (err: Error) =>
    this.fail(
      new SmtpClientError('closed', `connection to ${this.where} failed: ${err.message}`, undefined, { cause: err }),
    );
  private readonly onDrain = () => {
    const w = this.drainWaiter;
    if (!w) return;
    this.drainWaiter = null;
    clearTimeout(w.timer);
    w.resolve();
  };

  constructor(
    sock: net.Socket,
    private readonly opts: ConnectOptions,
  ) {
    this.sock = sock;
    this.remoteAddress = opts.host;
    this.mxName = opts.mxName;
    this.attach(sock);
  }

  private get where(): string {
    return `${this.opts.mxName}[${this.opts.host}]:${this.opts.port}`;
  }

  get usable(): boolean {
    return !this.error && !this.busy && !this.quitting && this.replies.length === 0 && !this.sock.destroyed;
  }

  private attach(sock: net.Socket): void {
    this.sock = sock;
    sock.setNoDelay(true);
    sock.on('data', this.onData);
    sock.on('close', this.onClose);
    sock.on('error', this.onError);
    sock.on('drain', this.onDrain);
  }

  private detach(sock: net.Socket): void {
    sock.off('data', this.onData);
    sock.off('close', this.onClose);
    sock.off('error', this.onError);
    sock.off('drain', this.onDrain);
  }

  private received(d: Buffer): void {
    let got: SmtpReply[];
    try {
      got = this.parser.push(d);
    } catch (err) {
      if (err instanceof ReplyError) this.fail(new SmtpClientError('protocol', `${this.where}: ${err.message}`));
      else throw err;
      return;
    }
    for (const r of got) {
      if (r.code === 421) this.last421 = r;
      const w = this.waiter;
      if (w) {
        this.waiter = null;
        clearTimeout(w.timer);
        w.resolve(r);
      } else this.replies.push(r);
    }
  }

  /** Ends the connection for good with `err` (the first failure wins); rejects what is waiting. */
  fail(err: SmtpClientError): void {
    if (!this.error) {
      // A server that closes says why in its 421 first (RFC 5321 3.8): the 'closed' error carries it.
      if (err.kind === 'closed' && this.last421 && !err.reply) err.reply = this.last421;
      this.error = err;
    }
    this.sock.destroy();
    const w = this.waiter;
    if (w) {
      this.waiter = null;
      clearTimeout(w.timer);
      w.reject(this.error);
    }
    const d = this.drainWaiter;
    if (d) {
      this.drainWaiter = null;
      clearTimeout(d.timer);
      d.reject(this.error);
    }
  }

  /** The next reply, within the command timeout. */
  read(what: string): Promise<SmtpReply> {
    const r = this.replies.shift();
    if (r) return Promise.resolve(r);
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.fail(
            new SmtpClientError(
              'timeout',
              `${this.where}: no reply to ${what} within ${this.opts.commandTimeoutMs} ms`,
            ),
          ),
        this.opts.commandTimeoutMs,
      );
      this.waiter = { resolve, reject, timer };
    });
  }

  private write(data: string | Buffer): boolean {
    if (this.error) throw this.error;
    return this.sock.write(data);
  }

  private drain(): Promise<void> {
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          this.fail(
            new SmtpClientError(
              'timeout',
              `${this.where}: the server read nothing of the message for ${this.opts.commandTimeoutMs} ms`,
            ),
          ),
        this.opts.commandTimeoutMs,
      );
      this.drainWaiter = { resolve, reject, timer };
    });
  }

  async command(line: string): Promise<SmtpReply> {
    this.write(`${line}\r\n`);
    return this.read(line.split(' ', 1)[0]!);
  }

  /** Greeting, EHLO/HELO, STARTTLS and EHLO again. */
  async handshake(): Promise<void> {
    this.greeting = await this.read('the greeting');
    if (this.greeting.code !== 220) {
      this.quitNow();
      throw new SmtpClientError(
        'greeting',
        `${this.where} greeted with ${this.greeting.code} ${this.greeting.text}`,
        this.greeting,
      );
    }
    await this.hello();
    const mode = this.opts.tls;
    if (mode === 'none') return;
    if (!this.extensions.has('STARTTLS')) {
      if (mode === 'required') {
        this.quitNow();
        throw new SmtpClientError('tls', `${this.where} does not offer STARTTLS and TLS is required`);
      }
      return;
    }
    const r = await this.command('STARTTLS');
    if (r.code !== 220) {
      if (mode === 'required') {
        this.quitNow();
        throw new SmtpClientError('tls', `${this.where} refused STARTTLS: ${r.code} ${r.text}`, r);
      }
      return;
    }
    if (this.parser.pending > 0 || this.replies.length > 0) {
      const err = new SmtpClientError('protocol', `${this.where} sent data after its 220 to STARTTLS`);
      this.fail(err);
      throw err;
    }
    await this.startTls();
    if (mode === 'required' && !this.tls!.authorized) {
      this.quitNow();
      throw new SmtpClientError(
        'tls',
        `${this.where}: certificate not valid for ${this.opts.mxName}: ${this.tls!.authorizationError}`,
      );
    }
    await this.hello();
  }

  private async hello(): Promise<void> {
    const r = await this.command(`EHLO ${this.opts.localName}`);
    this.extensions = new Map();
    if (is2xx(r)) {
      this.ehlo = r;
      for (const line of r.lines.slice(1)) {
        const m = /^([A-Za-z0-9][A-Za-z0-9-]*)(?:[ =](.*))?$/.exec(line.trim());
        if (m) this.extensions.set(m[1]!.toUpperCase(), (m[2] ?? '').trim());
      }
      return;
    }
    if (r.code >= 500) {
      const h = await this.command(`HELO ${this.opts.localName}`);
      if (is2xx(h)) {
        this.ehlo = h;
        return;
      }
      this.quitNow();
      throw new SmtpClientError('greeting', `${this.where} refused HELO: ${h.code} ${h.text}`, h);
    }
    this.quitNow();
    throw new SmtpClientError('greeting', `${this.where} refused EHLO: ${r.code} ${r.text}`, r);
  }

  private startTls(): Promise<void> {
    const raw = this.sock;
    this.detach(raw);
    const { mxName, ca } = this.opts;
    return new Promise((resolve, reject) => {
      const sock = tls.connect({
        socket: raw,
        ...(net.isIP(mxName) ? {} : { servername: mxName }),
        rejectUnauthorized: false,
        ...(ca ? { secureContext: contextWithCa(ca) } : {}),
        // The name is checked below against mxName (Node would check the servername, absent for an IP).
        checkServerIdentity: () => undefined,
      });
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        sock.destroy();
        raw.destroy();
        const err = new SmtpClientError(
          'timeout',
          `${this.where}: TLS handshake took over ${this.opts.commandTimeoutMs} ms`,
        );
        this.error ??= err;
        reject(err);
      }, this.opts.commandTimeoutMs);
      const failed = (e: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.destroy();
        raw.destroy();
        const err = new SmtpClientError('tls', `${this.where}: TLS handshake failed: ${e.message}`, undefined, {
          cause: e,
        });
        this.error ??= err;
        reject(err);
      };
      const closed = () => failed(new Error('connection closed during the handshake'));
      sock.on('error', failed);
      sock.on('close', closed);
      sock.once('secureConnect', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        sock.off('error', failed);
        sock.off('close', closed);
        let authorized = sock.authorized;
        let authorizationError = sock.authorizationError ? String(sock.authorizationError) : undefined;
        if (authorized) {
          const e = tls.checkServerIdentity(mxName, sock.getPeerCertificate());
          if (e) {
            authorized = false;
            authorizationError = e.message;
          }
        }
        this.tls = {
          version: sock.getProtocol() ?? '',
          cipher: sock.getCipher()?.name ?? '',
          authorized,
          ...(authorizationError ? { authorizationError } : {}),
        };
        this.attach(sock);
        // The raw socket's own close still ends the connection.
        raw.on('close', this.onClose);
        raw.on('error', () => {});
        resolve();
      });
    });
  }

  /** Writes QUIT and ends the socket without waiting (a session that is being given up). */
  private quitNow(): void {
    if (this.error || this.sock.destroyed) return;
    this.quitting = true;
    this.sock.end('QUIT\r\n');
    const t = setTimeout(() => this.sock.destroy(), QUIT_WAIT_MS);
    t.unref();
    this.sock.once('close', () => clearTimeout(t));
  }

  private begin(what: string): void {
    if (this.busy) throw new Error(`SMTP connection busy: ${what} while another operation runs`);
    if (this.error) throw this.error;
    if (this.quitting) throw new SmtpClientError('closed', `${this.where}: connection is quitting`);
    if (this.replies.length) {
      // Something said while idle (often a 421 before closing): the replies would be out of step.
      const err = new SmtpClientError('protocol', `${this.where} sent a reply nobody asked for`, this.replies[0]);
      this.fail(err);
      throw err;
    }
    this.busy = true;
  }

  async send(envelope: Envelope, body: string | Buffer): Promise<SendResult> {
    checkText('sender', envelope.from);
    for (const r of envelope.to) {
      checkText('recipient', r.address);
      if (r.notify) checkText('NOTIFY', r.notify);
      if (r.orcpt) checkText('ORCPT', r.orcpt);
    }
    if (envelope.envid) checkText('ENVID', envelope.envid);
    if (envelope.to.length === 0) throw new TypeError('an envelope needs at least one recipient');
    this.begin('send');
    try {
      return await this.transaction(envelope, body);
    } finally {
      this.busy = false;
      this.transactions++;
    }
  }

  private refusedLocally(envelope: Envelope, code: number, text: string): SendResult {
    const mail = makeReply(code, [text]);
    return { mail, rcpts: envelope.to.map(() => mail), data: null };
  }

  private async transaction(envelope: Envelope, body: string | Buffer): Promise<SendResult> {
    const ext = this.extensions;
    let mailCmd = `MAIL FROM:<${envelope.from}>`;
    if (envelope.size !== undefined && ext.has('SIZE')) {
      const limit = Number.parseInt(ext.get('SIZE')!, 10);
      if (limit > 0 && envelope.size > limit)
        return this.refusedLocally(envelope, 552, '5.3.4 message size exceeds fixed maximum message size');
      mailCmd += ` SIZE=${envelope.size}`;
    }
    if (envelope.eightBitMime && ext.has('8BITMIME')) mailCmd += ' BODY=8BITMIME';
    if (envelope.smtputf8) {
      if (!ext.has('SMTPUTF8')) return this.refusedLocally(envelope, 553, '5.6.7 the server does not support SMTPUTF8');
      mailCmd += ' SMTPUTF8';
    }
    const dsn = ext.has('DSN');
    if (dsn) {
      if (envelope.ret) mailCmd += ` RET=${envelope.ret}`;
      if (envelope.envid) mailCmd += ` ENVID=${xtext(envelope.envid)}`;
    }
    const rcptCmds = envelope.to.map((r) => {
      let c = `RCPT TO:<${r.address}>`;
      if (dsn) {
        if (r.notify) c += ` NOTIFY=${r.notify}`;
        if (r.orcpt) c += ` ORCPT=${orcptParam(r.orcpt)}`;
      }
      return c;
    });

    // The file is opened (and, when small, read) before anything is sent: an unreadable file fails here, with the
    // connection still usable. Synchronous on purpose: a spool file just written is in the page cache, where
    // open+fstat+read take tens of microseconds, and a thread-pool round trip costs far more than that under load.
    const file = typeof body === 'string' ? openFileBody(body) : null;
    const release = () => {
      if (file) closeFd(file.fd);
    };

    let mail: SmtpReply;
    const rcpts: SmtpReply[] = [];
    let dataReply: SmtpReply;
    try {
      if (ext.has('PIPELINING')) {
        this.write(`${mailCmd}\r\n${rcptCmds.join('\r\n')}\r\nDATA\r\n`);
        mail = await this.read('MAIL FROM');
        for (let i = 0; i < rcptCmds.length; i++) rcpts.push(await this.read('RCPT TO'));
        dataReply = await this.read('DATA');
        const accepted = is2xx(mail) && rcpts.some(is2xx);
        if (!accepted) {
          if (dataReply.code === 354) {
            // RFC 2920 3.1: DATA was accepted although nothing can be delivered: an empty message, then reset.
            this.write(DOT_CRLF);
            await this.read('end of data');
          }
          release();
          return { mail, rcpts: is2xx(mail) ? rcpts : envelope.to.map(() => mail), data: null };
        }
      } else {
        mail = await this.command(mailCmd);
        if (!is2xx(mail)) {
          release();
          return { mail, rcpts: envelope.to.map(() => mail), data: null };
        }
        for (const c of rcptCmds) rcpts.push(await this.command(c));
        if (!rcpts.some(is2xx)) {
          release();
          return { mail, rcpts, data: null };
        }
        dataReply = await this.command('DATA');
      }
    } catch (err) {
      release();
      throw err;
    }
    if (dataReply.code !== 354) {
      release();
      return { mail, rcpts, data: dataReply };
    }
    await this.writeBody(file ? file : (body as Buffer));
    return { mail, rcpts, data: await this.read('end of data') };
  }

  /** Writes Buffers in one system call (writev), then waits for 'drain' if the socket's buffer is full. */
  private async writeAll(bufs: Buffer[]): Promise<void> {
    if (this.error) throw this.error;
    let ok = true;
    if (bufs.length === 1) ok = this.sock.write(bufs[0]!);
    else {
      this.sock.cork();
      for (const b of bufs) ok = this.sock.write(b);
      this.sock.uncork();
    }
    if (!ok) await this.drain();
  }

  private async writeBody(body: Buffer | FileBody): Promise<void> {
    if (Buffer.isBuffer(body)) return this.writeAll(encodeData(body));
    if (body.whole) return this.writeAll(encodeData(body.whole));
    const { fd } = body;
    try {
      const enc = new DataEncoder();
      let position = 0;
      let chunk: Buffer | null = null;
      for (;;) {
        const buf = Buffer.allocUnsafe(CHUNK);
        let n: number;
        try {
          n = await readAsync(fd, buf, position);
        } catch (err) {
          // DATA cannot be aborted: the connection goes.
          this.fail(new SmtpClientError('closed', `${this.where}: message file unreadable, connection abandoned`));
          throw err;
        }
        if (n === 0) break;
        position += n;
        // The previous chunk goes once there is a next one: the last goes with the end of the message.
        if (chunk) await this.writeAll([enc.push(chunk)]);
        chunk = n < CHUNK ? buf.subarray(0, n) : buf;
      }
      await this.writeAll(enc.last(chunk ?? Buffer.alloc(0)));
    } finally {
      closeFd(fd);
    }
  }

  async reset(): Promise<void> {
    this.begin('reset');
    try {
      const r = await this.command('RSET');
      if (r.code !== 250) {
        const err = new SmtpClientError('protocol', `${this.where} answered RSET with ${r.code} ${r.text}`, r);
        this.fail(err);
        throw err;
      }
    } finally {
      this.busy = false;
    }
  }

  async quit(): Promise<void> {
    if (this.error || this.sock.destroyed || this.quitting) {
      this.sock.destroy();
      return;
    }
    this.quitting = true;
    const sock = this.sock;
    const closed = new Promise<void>((resolve) => {
      if (sock.destroyed) resolve();
      else sock.once('close', () => resolve());
    });
    const limit = Math.min(QUIT_WAIT_MS, this.opts.commandTimeoutMs);
    const timer = setTimeout(() => sock.destroy(), limit);
    try {
      this.write('QUIT\r\n');
      await this.read('QUIT').catch(() => {});
      sock.end();
      await closed;
    } catch {
      // already failed: nothing more to say to this server
    } finally {
      clearTimeout(timer);
      sock.destroy();
    }
  }

  /** After a failed handshake: destroyed, unless a QUIT is on its way (quitNow ends the socket itself). */
  abandon(): void {
    if (!this.quitting) this.close();
  }

  close(): void {
    this.quitting = true;
    this.fail(new SmtpClientError('closed', `${this.where}: closed by us`));
  }
}

/** Connects, reads the greeting, says EHLO (or HELO), does STARTTLS as `opts.tls` asks. */
export function openSmtpConnection(opts: ConnectOptions): Promise<SmtpConnection> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: opts.host, port: opts.port });
    const where = `${opts.mxName}[${opts.host}]:${opts.port}`;
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      sock.destroy();
      reject(new SmtpClientError('timeout', `${where}: no connection within ${opts.connectTimeoutMs} ms`));
    }, opts.connectTimeoutMs);
    sock.once('error', (err) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      reject(new SmtpClientError('connect', `${where}: ${err.message}`, undefined, { cause: err }));
    });
    sock.once('connect', () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.removeAllListeners('error');
      const conn = new Connection(sock, opts);
      conn.handshake().then(
        () => resolve(conn),
        (err) => {
          conn.abandon();
          reject(err);
        },
      );
    });
  });
}
