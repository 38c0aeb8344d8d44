/**
 * The DATA transform of an outgoing message (RFC 5321 4.5.2 and 2.3.8): every line end becomes CRLF (a bare LF gets
 * its CR), a line that starts with "." gets one more "." (dot-stuffing), and the message ends with CRLF (added when
 * missing) before the terminating ".\r\n", which the caller writes.
 * Rules:
 *  - It works on Buffers, one chunk at a time, in one pass of Buffer.indexOf over the LFs: no per-line strings. The
 *    state (at the start of a line; the last byte was a CR) carries across chunks, so a CR at the end of one chunk
 *    and its LF at the start of the next stay one CRLF, and a "." that starts the next chunk after a line end is
 *    stuffed.
 *  - A chunk that needs no change is returned as it is (no copy); otherwise the output is allocated at its exact
 *    size, counted first.
 *  - A bare CR (not followed by LF) is passed through unchanged; end() after one adds only the LF.
 */

const LF = 0x0a;
const CR = 0x0d;
const DOT = 0x2e;
const CRLF = Buffer.from('\r\n');
const LF_ONLY = Buffer.from('\n');
const EMPTY = Buffer.alloc(0);
export const DOT_CRLF = Buffer.from('.\r\n');
const CRLF_DOT_CRLF = Buffer.from('\r\n.\r\n');
const LF_DOT_CRLF = Buffer.from('\n.\r\n');

export class DataEncoder {
  /** The next byte starts a line (true at the start: a message whose first line is "." is stuffed too). */
  private atLineStart = true;
  /** The last byte seen was a CR. */
  private lastCR = false;

  /** The transformed chunk (the same Buffer when nothing changes). */
  push(chunk: Buffer): Buffer {
    return this.transform(chunk, EMPTY);
  }

  /** The transformed chunk with `suffix` after it in one Buffer; the chunk itself (no suffix) if nothing changes. */
  private transform(chunk: Buffer, suffix: Buffer): Buffer {
    const len = chunk.length;
    if (len === 0) return chunk;
    // First pass: count the bytes to add.
    let extra = 0;
    if (this.atLineStart && chunk[0] === DOT) extra++;
    let i = chunk.indexOf(LF);
    while (i !== -1) {
      if (!(i === 0 ? this.lastCR : chunk[i - 1] === CR)) extra++;
      if (i + 1 < len && chunk[i + 1] === DOT) extra++;
      i = chunk.indexOf(LF, i + 1);
    }
    const startedAtLineStart = this.atLineStart;
    const startedCR = this.lastCR;
    const last = chunk[len - 1]!;
    this.atLineStart = last === LF;
    this.lastCR = last === CR;
    if (extra === 0) return chunk;
    // Second pass: copy segments (TypedArray.set of subarrays: the fastest copy for line-sized pieces), inserting
    // the CRs and dots.
    const out = Buffer.allocUnsafe(len + extra + suffix.length);
    const src = new Uint8Array(chunk.buffer, chunk.byteOffset, len);
    let o = 0;
    let from = 0;
    if (startedAtLineStart && chunk[0] === DOT) out[o++] = DOT;
    i = chunk.indexOf(LF);
    while (i !== -1) {
      const hasCR = i === 0 ? startedCR : src[i - 1] === CR;
      if (i > from) out.set(src.subarray(from, i), o);
      o += i - from;
      if (!hasCR) out[o++] = CR;
      out[o++] = LF;
      from = i + 1;
      if (from < len && src[from] === DOT) out[o++] = DOT;
      i = chunk.indexOf(LF, from);
    }
    if (len > from) out.set(src.subarray(from, len), o);
    o += len - from;
    if (suffix.length) out.set(suffix, o);
    return out;
  }

  /** What ends the message before ".\r\n": CRLF if the last line has no line end (LF after a bare CR), else nothing. */
  end(): Buffer {
    if (this.atLineStart) return EMPTY;
    const tail = this.lastCR ? LF_ONLY : CRLF;
    this.atLineStart = true;
    this.lastCR = false;
    return tail;
  }

  /** The last chunk of a message and its end: the Buffers to write (one, or the unchanged chunk and the end). */
  last(chunk: Buffer): Buffer[] {
    const len = chunk.length;
    // Whether the message will need a line end added depends only on the chunk's last bytes.
    const lastByte = len ? chunk[len - 1] : this.atLineStart ? LF : this.lastCR ? CR : 0;
    const terminator = lastByte === LF ? DOT_CRLF : lastByte === CR ? LF_DOT_CRLF : CRLF_DOT_CRLF;
    const out = this.transform(chunk, terminator);
    this.atLineStart = true;
    this.lastCR = false;
    return out === chunk ? (len ? [chunk, terminator] : [terminator]) : [out];
  }
}

/** A whole message (one Buffer), transformed and terminated: the Buffers to write in order (one or two). */
export function encodeData(body: Buffer): Buffer[] {
  return new DataEncoder().last(body);
}
