/**
 * Reads IMAP commands from a socket (RFC 3501 2.2, RFC 7888 LITERAL+). Rules: a command is its lines plus
 * literals, assembled into one Buffer for the parser; a synchronizing literal gets `+` only when its size is
 * acceptable (`maxLiteral` of the command being read), otherwise the command is answered `NO [TOOBIG]` (RFC 7889)
 * without reading it; a too-big non-synchronizing literal is swallowed if small enough to discard, else the
 * connection is closed; a line longer than `maxLine` is answered BAD and skipped to its end; the socket is paused
 * while unread data exceeds a bound, so a client that pipelines cannot grow memory without limit.
 */
import type { Socket } from 'node:net';

export interface ReaderLimits {
  /** Longest line (excluding literals). */
  maxLine: number;
  /** Largest literal acceptable for the command whose beginning is given (tag and command name upper-cased). */
  maxLiteral(commandStart: string): number;
  /** Largest literal we are willing to read and discard after refusing it (beyond this: disconnect). */
  maxDiscard: number;
}

export type ReadResult =
  | { kind: 'command'; buf: Buffer }
  | { kind: 'rejected'; tag: string; response: string }
  | { kind: 'closed' };

const HIGH_WATER = 1 << 20;

export class CommandReader {
  private chunks: Buffer[] = [];
  private length = 0;
  private waiter: (() => void) | null = null;
  private ended = false;
  private paused = false;

  constructor(
    private socket: Socket,
    private limits: ReaderLimits,
    private sendContinuation: (text: string) => void,
  ) {
    socket.on('data', this.onData);
    socket.on('end', this.onEnd);
    socket.on('close', this.onEnd);
  }

  private onData = (d: Buffer) => {
    this.chunks.push(d);
    this.length += d.length;
    if (this.length > HIGH_WATER && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    this.wake();
  };

  private onEnd = () => {
    this.ended = true;
    this.wake();
  };

  /**
   * Replaces the socket (after STARTTLS): this reader lets go of the old one (only its own listeners) and
   * anything buffered from it is discarded (RFC 3501 6.2.1: no plaintext injection).
   */
  switchSocket(socket: Socket): CommandReader {
    this.detach();
    return new CommandReader(socket, this.limits, this.sendContinuation);
  }

  /** Stops reading from the socket (its own listeners only). */
  detach(): void {
    this.socket.off('data', this.onData);
    this.socket.off('end', this.onEnd);
    this.socket.off('close', this.onEnd);
  }

  /** Bytes already received but not consumed (must be empty when STARTTLS starts: RFC 3501 6.2.1). */
  buffered(): number {
    return this.length;
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  private async more(): Promise<boolean> {
    if (this.ended) return false;
    if (this.paused) {
      this.paused = false;
      this.socket.resume();
    }
    await new Promise<void>((r) => {
      this.waiter = r;
    });
    return true;
  }

  private flat(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks, this.length)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  private take(n: number): Buffer {
    const buf = this.flat();
    const out = buf.subarray(0, n);
    const rest = buf.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.length = rest.length;
    if (this.paused && this.length < HIGH_WATER / 2) {
      this.paused = false;
      this.socket.resume();
    }
    return out;
  }

  /** One line without its CRLF, or null at end of stream; `tooLong` when it exceeded maxLine (skipped). */
  async readLine(): Promise<{ line: Buffer; tooLong: boolean } | null> {
    let scanned = 0;
    let tooLong = false;
    let head = Buffer.alloc(0);
    for (;;) {
      const buf = this.flat();
      const lf = buf.indexOf(0x0a, scanned);
      if (lf >= 0) {
        const raw = this.take(lf + 1);
        if (tooLong) return { line: head, tooLong };
        const end = lf > 0 && raw[lf - 1] === 0x0d ? lf - 1 : lf;
        return { line: Buffer.from(raw.subarray(0, end)), tooLong };
      }
      if (buf.length > this.limits.maxLine) {
        // Keep the first bytes (for the tag), drop the rest until the end of the line.
        if (!tooLong) head = Buffer.from(buf.subarray(0, 64));
        tooLong = true;
        this.take(buf.length);
        scanned = 0;
      } else scanned = buf.length;
      if (!(await this.more())) return null;
    }
  }

  private async readExact(n: number): Promise<Buffer | null> {
    while (this.length < n) if (!(await this.more())) return null;
    return Buffer.from(this.take(n));
  }

  private async discard(n: number): Promise<boolean> {
    while (n > 0) {
      if (this.length === 0 && !(await this.more())) return false;
      const k = Math.min(n, this.length);
      this.take(k);
      n -= k;
    }
    return true;
  }

  /** The next complete command, with its literals inline. */
  async readCommand(): Promise<ReadResult> {
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const r = await this.readLine();
      if (!r) return { kind: 'closed' };
      const start = parts.length ? parts[0]!.toString('latin1', 0, 64) : r.line.toString('latin1', 0, 64);
      if (r.tooLong) {
        return { kind: 'rejected', tag: tagOf(start), response: 'BAD Command line too long' };
      }
      const lit = literalAtEnd(r.line);
      if (!lit) {
        parts.push(r.line);
        return { kind: 'command', buf: parts.length === 1 ? parts[0]! : Buffer.concat(parts) };
      }
      parts.push(r.line, CRLF);
      total += r.line.length + lit.size;
      const max = this.limits.maxLiteral(commandStart(start));
      if (lit.size > max || total > max + this.limits.maxLine * 4) {
        const tag = tagOf(start);
        if (lit.sync) {
          // The client waits for "+": it will not send the literal.
          return {
            kind: 'rejected',
            tag,
            response: `NO [TOOBIG] Literal of ${lit.size} bytes is too big (limit ${max})`,
          };
        }
        if (lit.size > this.limits.maxDiscard || !(await this.discard(lit.size))) return { kind: 'closed' };
        // The rest of the command line follows the literal: skip it too.
        await this.readLine();
        return {
          kind: 'rejected',
          tag,
          response: `NO [TOOBIG] Literal of ${lit.size} bytes is too big (limit ${max})`,
        };
      }
      if (lit.sync) this.sendContinuation('Ready for literal data');
      const data = await this.readExact(lit.size);
      if (!data) return { kind: 'closed' };
      parts.push(data);
    }
  }
}

const CRLF = Buffer.from('\r\n');

/** `{n}` or `{n+}` at the end of a line, outside a quoted string. */
export function literalAtEnd(line: Buffer): { size: number; sync: boolean } | null {
  if (line[line.length - 1] !== 0x7d) return null;
  const open = line.lastIndexOf(0x7b);
  if (open < 0) return null;
  const m = /^\{(\d{1,12})(\+?)\}$/.exec(line.toString('latin1', open));
  if (!m) return null;
  // Inside a quoted string? Count unescaped quotes before the brace.
  let inQuote = false;
  for (let i = 0; i < open; i++) {
    const c = line[i];
    if (inQuote && c === 0x5c) i++;
    else if (c === 0x22) inQuote = !inQuote;
  }
  if (inQuote) return null;
  return { size: Number(m[1]), sync: m[2] !== '+' };
}

function tagOf(start: string): string {
  const m = /^[^\s(){%*"\\+]+/.exec(start);
  return m ? m[0] : '*';
}

function commandStart(start: string): string {
  return start.toUpperCase();
}
