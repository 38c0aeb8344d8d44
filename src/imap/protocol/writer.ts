/**
 * Serializes responses (RFC 3501 4, 7). Rules: a JS string becomes a quoted string when it is short 7-bit text
 * without CR, LF, NUL, '"' or '\\' escapes problems, otherwise a literal (8-bit UTF-8 is sent as a literal unless
 * the session enabled UTF8=ACCEPT, when it may be quoted); a Buffer is always a literal; null is NIL; an Atom is
 * written as is; arrays are parenthesized lists. The output is a list of chunks so large bodies are not copied.
 * A session's ResponseWriter sends them: one socket write per call (small chunks joined, large literals not
 * copied), the socket corked for the rest of the tick, and backpressure through `drained`.
 */
import type { Socket } from 'node:net';
import { Adjacent, Atom, type ImapValue } from './types.ts';

export type Chunk = string | Buffer;

const QUOTABLE = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;

export function quote(s: string): string {
  return `"${s.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** A string argument as `astring`: atom-safe strings stay bare, others quoted or literal. */
export function astring(s: string, utf8 = false): Chunk[] {
  if (/^[^(){ %*"\\\x00-\x1f\x7f-\uffff]+$/.test(s) && s.toUpperCase() !== 'NIL') return [s];
  return encode(s, utf8);
}

export function encode(v: ImapValue, utf8 = false, out: Chunk[] = []): Chunk[] {
  if (v === null) out.push('NIL');
  else if (typeof v === 'number' || typeof v === 'bigint') out.push(String(v));
  else if (v instanceof Atom) out.push(v.value);
  else if (v instanceof Adjacent) for (const item of v.items) encode(item, utf8, out);
  else if (Buffer.isBuffer(v)) out.push(`{${v.length}}\r\n`, v);
  else if (typeof v === 'string') {
    if (v.length < 4096 && (QUOTABLE.test(v) || (utf8 && !/[\0\r\n]/.test(v)))) out.push(quote(v));
    else {
      const b = Buffer.from(v, 'utf8');
      out.push(`{${b.length}}\r\n`, b);
    }
  } else {
    out.push('(');
    v.forEach((item, i) => {
      if (i) out.push(' ');
      encode(item, utf8, out);
    });
    out.push(')');
  }
  return out;
}

/** Buffers up to this size are copied into a response's single write; larger ones are written separately. */
const COPY_LIMIT = 64 * 1024;

/** A socket buffer above this size makes `drained` wait for the 'drain' event. */
const HIGH_WATER = 256 * 1024;

/**
 * A session's output. Writes of one tick go out together: the socket is corked at the first write and uncorked on
 * the next tick (a SELECT answer or a FETCH of flags is many lines; each uncorked write is a syscall); `flush`
 * sends now. `socket` changes once with STARTTLS; after `closed` is set, writes are dropped.
 */
export class ResponseWriter {
  closed = false;
  private corked: Socket | null = null;

  constructor(public socket: Socket) {}

  flush(): void {
    const c = this.corked;
    this.corked = null;
    c?.uncork();
  }

  write(chunks: Chunk[]): boolean {
    if (this.closed || this.socket.destroyed) return false;
    if (!this.corked) {
      const socket = this.socket;
      this.corked = socket;
      socket.cork();
      process.nextTick(() => {
        if (this.corked === socket) this.flush();
      });
    }
    if (chunks.length === 1) return this.socket.write(chunks[0]!);
    // One socket write per call: a FETCH response is dozens of tiny chunks, and each write() is a syscall.
    // Strings are UTF-8 (as socket.write encodes them); large buffers (literals) are written as they are, not copied.
    const parts: Buffer[] = [];
    let text = '';
    let large = false;
    for (const c of chunks) {
      if (typeof c === 'string') text += c;
      else {
        if (text) parts.push(Buffer.from(text, 'utf8'));
        text = '';
        parts.push(c);
        if (c.length > COPY_LIMIT) large = true;
      }
    }
    if (!parts.length) return text ? this.socket.write(text) : true;
    if (text) parts.push(Buffer.from(text, 'utf8'));
    if (!large) return this.socket.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
    this.socket.cork();
    let ok = true;
    for (const p of parts) ok = this.socket.write(p) && ok;
    this.socket.uncork();
    return ok;
  }

  /** Writes and waits for the socket to drain when its buffer is full. */
  async writeAsync(chunks: Chunk[]): Promise<void> {
    if (!this.write(chunks) && !this.closed) await this.drained();
  }

  drained(): Promise<void> {
    if (this.socket.writableLength < HIGH_WATER) return Promise.resolve();
    this.flush();
    return new Promise((resolve) => {
      const socket = this.socket;
      const done = () => {
        socket.off('drain', done);
        socket.off('close', done);
        resolve();
      };
      socket.on('drain', done);
      socket.on('close', done);
    });
  }
}
