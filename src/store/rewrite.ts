/**
 * Header rewriting of a spooled message, after the content checks and before deliver(): new header lines
 * (Authentication-Results, X-Spam-*) go at the very top (RFC 5321 4.4, RFC 8601 5: trace and result fields are
 * prepended), and header fields the caller names (a forged Authentication-Results) are removed.
 * Rules: streamed (the file is never read whole: header fields are judged one at a time, a field longer than
 * FIELD_LIMIT on its first FIELD_LIMIT bytes, and the body is copied in READ_CHUNK-sized reads); only the header section
 * (up to the first empty line) is filtered, folded fields whole, the body never; the new content is written to a
 * new file in the same directory, fdatasync'd like spool.ts's, then renamed over the spooled name, so that at
 * every moment the name holds either the old complete file or the new complete one (a crash in between leaves a
 * tmp/ file the tmp/ sweep or the .spool clean-up removes); on any failure the new file is removed, the old one is
 * untouched and StoreError is thrown; size, bare LFs and the indexed headers are those of the new file.
 * The spooled name is not held (held.ts): it lives in tmp/ (or .spool), which the Maildir pickup never reads.
 * A message of up to SMALL bytes (the spool's in-memory size) is read, filtered and written with one call each on
 * this thread (page cache: tens of microseconds), with only the open, the fdatasync and the rename's neighbours
 * off it, instead of a dozen thread-pool round trips. A file spooled unsynced ({ sync: false }) leaves here
 * durable: rewritten (the new file is synced) or, with nothing to change, synced in place.
 */
import { closeSync, openSync, readSync, renameSync, writevSync } from 'node:fs';
import { type FileHandle, open, rename, unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { HEADER_LIMIT, parseIndexHeaders } from './headers.ts';
import { uniqueName } from './maildir.ts';
import { type Spooled, StoreError, safeUnlink, syncFd } from './spool.ts';

export interface RewriteOptions {
  /** Header lines to put first, in this order, without their line end (CRLF is added); folded with CRLF + WSP. */
  prepend: readonly string[];
  /**
   * True for a header field to remove: its name as written and its unfolded value, trimmed (UTF-8 decoded; a
   * field longer than FIELD_LIMIT is judged on its start). Called for every field of the header section, the
   * trace headers included; must be pure (it may be called twice per field).
   */
  drop?: (name: string, value: string) => boolean;
}

/** Files up to this size are rewritten in memory (see the rules above). */
const SMALL = 256 * 1024;

/** Bytes per read. */
export const READ_CHUNK = 256 * 1024;
/** A header field longer than this is judged on its first FIELD_LIMIT bytes and then streamed (or skipped). */
export const FIELD_LIMIT = 64 * 1024;

const LF = 10;
const CR = 13;

/** A prepended line: a field name, a colon, and folds only as CRLF followed by a space or tab. */
const PREPEND_LINE = /^[!-9;-~]+:(?:[^\r\n]|\r\n[ \t])*$/;

/**
 * Splits a header section into fields as its bytes arrive and passes on (`out`) those that are kept. Lines are
 * found by their LF (CRLF or a bare LF); a line starting with a space or tab continues the field before it; the
 * empty line ends the section and is kept.
 */
class HeaderFilter {
  droppedFields = 0;
  droppedBytes = 0;
  droppedBareLf = 0;
  private atLineStart = true;
  /** The first byte(s) of a line, held back until it is known whether they are the empty line ("\r" alone). */
  private carry: Buffer | null = null;
  /** The open field: collected while undecided, then passed on or skipped. */
  private mode: 'none' | 'collect' | 'keep' | 'drop' = 'none';
  private field: Buffer[] = [];
  private fieldLen = 0;
  /** The last dropped byte (for counting bare LFs across segments of one dropped field). */
  private prevDropped = LF;

  constructor(
    private readonly drop: (name: string, value: string) => boolean,
    private readonly out: (b: Buffer) => void,
  ) {}

  /** Takes the next bytes; once the empty line is passed, returns what follows it in `input` (the body's start). */
  push(input: Buffer): Buffer | null {
    const chunk = this.carry ? Buffer.concat([this.carry, input]) : input;
    this.carry = null;
    let pos = 0;
    while (pos < chunk.length) {
      const nl = chunk.indexOf(LF, pos);
      const end = nl === -1 ? chunk.length : nl + 1;
      if (this.atLineStart) {
        if (nl === -1 && chunk.length - pos < 2) {
          this.carry = Buffer.from(chunk.subarray(pos));
          return null;
        }
        const first = chunk[pos]!;
        if (first === LF || (first === CR && chunk[pos + 1] === LF)) {
          this.close();
          this.out(chunk.subarray(pos, end));
          return chunk.subarray(end);
        }
        // A continuation line continues the open field (one before any field is passed on as it is).
        if (first !== 0x20 && first !== 0x09) this.open();
      }
      this.add(chunk.subarray(pos, end));
      this.atLineStart = nl !== -1;
      pos = end;
    }
    return null;
  }

  /** The end of the file inside the header section (a message without a body). */
  end(): void {
    const rest = this.carry;
    this.carry = null;
    if (rest) {
      if (this.atLineStart && rest[0] !== 0x20 && rest[0] !== 0x09) this.open();
      this.add(rest);
    }
    this.close();
  }

  private open(): void {
    this.close();
    this.mode = 'collect';
  }

  private add(seg: Buffer): void {
    if (this.mode === 'collect') {
      this.field.push(seg);
      this.fieldLen += seg.length;
      if (this.fieldLen > FIELD_LIMIT) this.decide();
    } else if (this.mode === 'drop') this.skip(seg);
    else this.out(seg);
  }

  private close(): void {
    if (this.mode === 'collect') this.decide();
    this.mode = 'none';
  }

  private decide(): void {
    const text = Buffer.concat(this.field).toString('utf8');
    const colon = text.indexOf(':');
    const name = colon > 0 ? text.slice(0, colon).trimEnd() : '';
    // Not a field (no colon, or a name with spaces or controls): kept as it is.
    const isField = name !== '' && /^[!-9;-~]+$/.test(name);
    const value = isField
      ? text
          .slice(colon + 1)
          .replace(/\r?\n(?=[ \t])/g, '')
          .trim()
      : '';
    const dropped = isField && this.drop(name, value);
    this.mode = dropped ? 'drop' : 'keep';
    if (dropped) this.droppedFields++;
    this.prevDropped = LF;
    for (const seg of this.field) {
      if (dropped) this.skip(seg);
      else this.out(seg);
    }
    this.field = [];
    this.fieldLen = 0;
  }

  private skip(seg: Buffer): void {
    this.droppedBytes += seg.length;
    for (let i = seg.indexOf(LF); i !== -1; i = seg.indexOf(LF, i + 1))
      if ((i === 0 ? this.prevDropped : seg[i - 1]) !== CR) this.droppedBareLf++;
    if (seg.length) this.prevDropped = seg[seg.length - 1]!;
  }
}

/** Writes all of `bufs` (a short write is continued). */
async function writeAll(fh: FileHandle, bufs: Buffer[]): Promise<number> {
  const total = bufs.reduce((n, b) => n + b.length, 0);
  if (!total) return 0;
  let done = (await fh.writev(bufs)).bytesWritten;
  if (done < total) {
    const rest = Buffer.concat(bufs).subarray(done);
    let off = 0;
    while (off < rest.length) off += (await fh.write(rest, off)).bytesWritten;
    done = total;
  }
  return done;
}

/** Whether `drop` is true for a field of the file's header section (reads only the header section). */
async function dropsAny(path: string, drop: NonNullable<RewriteOptions['drop']>): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const filter = new HeaderFilter(drop, () => {});
    for (;;) {
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await fh.read(buf, 0, READ_CHUNK, null);
      if (!bytesRead) {
        filter.end();
        break;
      }
      if (filter.push(buf.subarray(0, bytesRead)) || filter.droppedFields) break;
    }
    return filter.droppedFields > 0;
  } finally {
    await fh.close();
  }
}

/**
 * The spooled message with `prepend` at the top and the header fields `drop` names removed (see the file's
 * comment); the same Spooled, untouched, when there is nothing to prepend or drop. The path and unique name stay.
 */
export async function rewriteHeaders(spooled: Spooled, opts: RewriteOptions): Promise<Spooled> {
  for (const line of opts.prepend)
    if (!PREPEND_LINE.test(line)) throw new TypeError(`not a header line: ${JSON.stringify(line.slice(0, 200))}`);
  if (spooled.oversized) throw new StoreError('an oversized message is discarded, not rewritten');
  const drop = opts.drop ?? (() => false);
  if (spooled.size <= SMALL) return rewriteSmall(spooled, opts.prepend, drop, !!opts.drop);
  try {
    if (!opts.prepend.length && (!opts.drop || !(await dropsAny(spooled.path, opts.drop))))
      return spooled.synced ? spooled : await syncInPlace(spooled);
  } catch (e) {
    throw new StoreError(`cannot read the message ${spooled.path}: ${(e as Error).message}`, e);
  }

  const prepend = opts.prepend.map((l) => Buffer.from(`${l}\r\n`, 'utf8'));
  const next = join(dirname(spooled.path), uniqueName());
  // The new file's header section (up to HEADER_LIMIT bytes), for the indexed headers.
  const head: Buffer[] = [...prepend];
  let headLen = prepend.reduce((n, b) => n + b.length, 0);
  let pending: Buffer[] = [...prepend];
  const filter = new HeaderFilter(drop, (b) => {
    pending.push(b);
    if (headLen < HEADER_LIMIT) {
      head.push(b);
      headLen += b.length;
    }
  });
  let src: FileHandle | undefined;
  let dst: FileHandle | undefined;
  let created = false;
  let size = 0;
  try {
    src = await open(spooled.path, 'r');
    dst = await open(next, 'wx', 0o600);
    created = true;
    let body: Buffer | null = null;
    for (;;) {
      if (body) {
        // The body: one buffer, reused (each write completes before the next read).
        const { bytesRead } = await src.read(body, 0, READ_CHUNK, null);
        if (!bytesRead) break;
        size += await writeAll(dst, [body.subarray(0, bytesRead)]);
        continue;
      }
      // The header section: a fresh buffer per read (a field being judged may span reads).
      const buf = Buffer.allocUnsafe(READ_CHUNK);
      const { bytesRead } = await src.read(buf, 0, READ_CHUNK, null);
      if (!bytesRead) {
        filter.end();
        size += await writeAll(dst, pending);
        break;
      }
      const rest = filter.push(buf.subarray(0, bytesRead));
      if (rest) {
        pending.push(rest);
        body = Buffer.allocUnsafe(READ_CHUNK);
      }
      size += await writeAll(dst, pending);
      pending = [];
    }
    await dst.datasync();
    await dst.close();
    dst = undefined;
    // Atomic: the spooled name holds the old file or the new one, never a part.
    await rename(next, spooled.path);
  } catch (e) {
    await dst?.close().catch(() => {});
    if (created) await unlink(next).catch(() => {});
    throw new StoreError(`cannot rewrite the headers of ${spooled.path}: ${(e as Error).message}`, e);
  } finally {
    await src?.close().catch(() => {});
  }
  return {
    ...spooled,
    size,
    // Prepended lines end in CRLF (checked above); a dropped field takes its bare LFs with it.
    bareLf: spooled.bareLf - filter.droppedBareLf,
    headers: parseIndexHeaders(Buffer.concat(head)),
    synced: true,
  };
}

/** fdatasync of the spooled file as it is. */
async function syncInPlace(spooled: Spooled): Promise<Spooled> {
  let fd: number | undefined;
  try {
    fd = openSync(spooled.path, 'r');
    await syncFd(fd);
  } catch (e) {
    throw new StoreError(`cannot sync the message ${spooled.path}: ${(e as Error).message}`, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return { ...spooled, synced: true };
}

/** rewriteHeaders() for a small file: read whole, filtered in memory, written with one writev. */
async function rewriteSmall(
  spooled: Spooled,
  prependLines: readonly string[],
  drop: (name: string, value: string) => boolean,
  dropping: boolean,
): Promise<Spooled> {
  let data: Buffer;
  let fd: number | undefined;
  try {
    fd = openSync(spooled.path, 'r');
    data = Buffer.allocUnsafe(spooled.size);
    let off = 0;
    for (let n = 1; off < data.length && n > 0; off += n) n = readSync(fd, data, off, data.length - off, off);
    data = data.subarray(0, off);
  } catch (e) {
    throw new StoreError(`cannot read the message ${spooled.path}: ${(e as Error).message}`, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const kept: Buffer[] = [];
  const filter = new HeaderFilter(drop, (b) => kept.push(b));
  let rest: Buffer | null = null;
  if (dropping) {
    try {
      rest = filter.push(data);
      if (!rest) filter.end();
    } catch (e) {
      throw new StoreError(`cannot rewrite the headers of ${spooled.path}: ${(e as Error).message}`, e);
    }
  }
  if (!prependLines.length && !filter.droppedFields) return spooled.synced ? spooled : syncInPlace(spooled);
  const prepend = prependLines.map((l) => Buffer.from(`${l}\r\n`, 'utf8'));
  const parts = dropping ? [...prepend, ...kept, ...(rest ? [rest] : [])] : [...prepend, data];
  const size = parts.reduce((n, b) => n + b.length, 0);
  const next = join(dirname(spooled.path), uniqueName());
  let out: number | undefined;
  try {
    out = openSync(next, 'wx', 0o600);
    let written = writevSync(out, parts);
    // A short write (disk full) is finished or reported by the plain loop.
    if (written < size) {
      const all = Buffer.concat(parts);
      while (written < size) written += writevSync(out, [all.subarray(written)]);
    }
    await syncFd(out);
    closeSync(out);
    out = undefined;
    renameSync(next, spooled.path);
  } catch (e) {
    if (out !== undefined) closeSync(out);
    safeUnlink(next);
    throw new StoreError(`cannot rewrite the headers of ${spooled.path}: ${(e as Error).message}`, e);
  }
  const head = Buffer.concat(parts).subarray(0, HEADER_LIMIT);
  return {
    ...spooled,
    size,
    bareLf: spooled.bareLf - filter.droppedBareLf,
    headers: parseIndexHeaders(head),
    synced: true,
  };
}
