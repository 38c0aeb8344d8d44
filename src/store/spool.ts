/**
 * The SMTP spool: DATA streamed into a file, made durable before deliver.ts puts it in place and indexes it.
 * Rules: the file is written into the tmp/ of the first target mailbox (the Maildir protocol; deliver.ts renames it
 * into that mailbox's cur/) or into <mail_dir>/.spool when no local mailbox gets a copy, while its size and bare
 * LFs are counted; its data is fdatasync'd before spool() resolves (its name is made durable by the directory
 * fsync before the index commit), unless the caller asks { sync: false } because it will rewrite the file first
 * (rewrite.ts syncs what it leaves; deliver() refuses an unsynced file); a failure removes the file and rejects with StoreError; at start-up anything
 * left in .spool is a leftover of a crash (never acknowledged, or the spool name of one already linked into its
 * mailboxes) and is removed.
 */
import { closeSync, fdatasync, mkdirSync, open, readdirSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { type FileHandle, open as openHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { HEADER_LIMIT, type IndexedHeaders, parseIndexHeaders } from './headers.ts';
import { UserMaildir } from './mailboxFiles.ts';
import { uniqueName } from './maildir.ts';

export interface Spooled {
  /** Where the bytes are now: the first target's tmp/ (moved into its cur/ by deliver()) or <mail_dir>/.spool. */
  path: string;
  unique: string;
  /** Bytes on disk: prepended trace headers plus the message as received. */
  size: number;
  /** LFs without a CR before them (a sloppy client's): IMAP serves them as CRLF, so they count in its size. */
  bareLf: number;
  headers: IndexedHeaders;
  /** True when the client sent more than maxSize (the file is incomplete and must be discarded). */
  oversized: boolean;
  /**
   * False when spooled with { sync: false }: the bytes may still be only in the page cache. rewriteHeaders()
   * (which the MX calls after its checks) makes them durable; deliver() refuses an unsynced file.
   */
  synced: boolean;
  /** The first bytes hold an Authentication-Results field (a candidate for removal, rewrite.ts); a hint only. */
  authResults: boolean;
}

/** The mailbox whose tmp/ a message is spooled into. */
export interface SpoolInto {
  email: string;
  mailboxName: string;
}

export class StoreError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StoreError';
  }
}

/** Messages up to this size (with the trace headers) are collected in memory and written with one writev. */
const SPOOL_IN_MEMORY = 256 * 1024;

function writeRest(fd: number, rest: Buffer): void {
  let off = 0;
  while (off < rest.length) off += writeSync(fd, rest, off);
}

const openFd = (path: string) =>
  new Promise<number>((resolve, reject) => open(path, 'wx', 0o600, (e, fd) => (e ? reject(e) : resolve(fd))));

// fdatasync: the data and the size (all a new file needs to be read back); its name is made durable by the
// directory fsync before the commit.
export const syncFd = (fd: number) =>
  new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));

const AUTH_RESULTS = /(?:^|\n)authentication-results[ \t]*:/i;

export function createSpool(mailDir: string) {
  const spoolDir = join(mailDir, '.spool');
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  for (const f of readdirSync(spoolDir)) safeUnlink(join(spoolDir, f));

  return {
    /**
     * Writes `prefix` then the stream into a new file in `into`'s tmp/ (the mailbox that gets the first copy;
     * <mail_dir>/.spool without one) and makes its data durable. The stream is always read to its
     * end, also after a write error or past maxSize, so the SMTP session can still answer (a for-await loop
     * would destroy the stream when it exits early, leaving the client without a reply). A message of up to
     * SPOOL_IN_MEMORY bytes is collected first and written with one writev (few system calls and trips to the
     * thread pool: open, fsync); a bigger one is streamed to the file as it arrives.
     */
    async spool(
      prefix: Buffer,
      source: Readable,
      maxSize: number,
      into?: SpoolInto,
      opts: { sync?: boolean } = {},
    ): Promise<Spooled> {
      const sync = opts.sync ?? true;
      const unique = uniqueName();
      const dir = into ? join(new UserMaildir(mailDir, into.email).ensure(into.mailboxName), 'tmp') : spoolDir;
      const path = join(dir, unique);
      let size = prefix.length;
      let bareLf = 0;
      let last = 13; // the prefix ends with CRLF
      let oversized = false;
      let failure: Error | null = null;
      const head: Buffer[] = [];
      let headLen = 0;
      // In memory until SPOOL_IN_MEMORY, then streamed through a file handle.
      let buffered: Buffer[] | null = [prefix];
      let fh: FileHandle | undefined;
      let opening: Promise<void> | undefined;
      const toFile = (chunks: Buffer[]) => {
        opening = (async () => {
          try {
            fh = await openHandle(path, 'wx', 0o600);
            await fh.writev(chunks);
          } catch (e) {
            failure ??= e as Error;
          }
        })();
        return opening;
      };
      await new Promise<void>((resolve, reject) => {
        source.on('data', (chunk: Buffer) => {
          if (headLen < HEADER_LIMIT) {
            head.push(chunk);
            headLen += chunk.length;
          }
          size += chunk.length;
          for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1))
            if ((i === 0 ? last : chunk[i - 1]) !== 13) bareLf++;
          if (chunk.length) last = chunk[chunk.length - 1]!;
          if (size - prefix.length > maxSize) oversized = true;
          if (failure || oversized) return;
          if (buffered) {
            buffered.push(chunk);
            if (size <= SPOOL_IN_MEMORY) return;
            const chunks = buffered;
            buffered = null;
            source.pause();
            void toFile(chunks).then(() => source.resume());
            return;
          }
          if (!fh) return;
          source.pause();
          fh.write(chunk).then(
            () => source.resume(),
            (e: Error) => {
              failure = e;
              source.resume();
            },
          );
        });
        source.once('end', () => resolve());
        source.once('error', reject);
      }).catch((e: Error) => {
        failure ??= e;
      });
      await opening;
      if (!failure && !oversized) {
        if (buffered) {
          // Small message: one write on this thread (to the page cache, tens of microseconds); the open (which
          // can wait for the directory and the journal) and the fsync run on the thread pool.
          let fd: number | undefined;
          try {
            fd = await openFd(path);
            const written = writevSync(fd, buffered);
            // A regular file takes everything or reports why not; a short write means the disk filled up.
            if (written < size) writeRest(fd, Buffer.concat(buffered).subarray(written));
            if (sync) await syncFd(fd);
          } catch (e) {
            failure = e as Error;
          }
          if (fd !== undefined) closeSync(fd);
        } else {
          try {
            if (fh && sync) await fh.datasync();
          } catch (e) {
            failure = e as Error;
          }
        }
      }
      buffered = null;
      await fh?.close().catch(() => {});
      if (failure) {
        safeUnlink(path);
        throw new StoreError(`cannot write the message to ${dir}: ${failure.message}`, failure);
      }
      // An oversized message leaves no file when it never left memory: discard() copes with a missing file.
      const headBytes = Buffer.concat(head);
      return {
        path,
        unique,
        size,
        bareLf,
        headers: parseIndexHeaders(headBytes),
        authResults: AUTH_RESULTS.test(headBytes.toString('latin1')),
        oversized,
        synced: sync,
      };
    },

    discard(spooled: Spooled): void {
      safeUnlink(spooled.path);
    },
  };
}

export function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export type Spool = ReturnType<typeof createSpool>;
