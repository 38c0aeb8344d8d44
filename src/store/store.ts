/**
 * The mail store: deliver() makes a message durable in every target mailbox, then indexes it.
 * Order (RFC 5321 6.1: accept only what is safely stored): stream DATA into a file in the first target mailbox's
 * tmp/ (the Maildir protocol; <mail_dir>/.spool when no local mailbox gets a copy) while counting its size ->
 * fdatasync it -> on the mail writer thread: rename it into that mailbox's cur/ and hard-link it into every other
 * target's cur/ (a durable copy where a link is impossible), fsync each cur/, then index all targets and record
 * the delivery events in one SQLite transaction (with the queue rows of copies forwarded to remote addresses,
 * linked into <mail_dir>/.queue), so the event loop serves other sessions meanwhile. Rules: on any failure every file
 * this call created is removed and nothing is indexed (the caller answers 451 4.3.0); the caller answers 250
 * only after deliver() resolved; a file left in tmp/ by a crash is removed by the tmp/ sweep (maildir.ts).
 */
import { closeSync, fdatasync, mkdirSync, open, readdirSync, unlinkSync, writeSync, writevSync } from 'node:fs';
import { type FileHandle, open as openHandle, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { NewDeliveryEvent } from '../repos/deliveryEvents.ts';
import type { Repos } from '../repos/index.ts';
import type { DeliveryJob, StoredMessage } from '../repos/mail.ts';
import type { FileStep } from '../repos/mailWrites.ts';
import type { NewQueueEntry } from '../repos/queue.ts';
import { HEADER_LIMIT, type IndexedHeaders, parseIndexHeaders } from './headers.ts';
import { hold, release } from './held.ts';
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
}

export interface StoreTarget {
  userId: number;
  email: string;
  mailboxId: number;
  mailboxName: string;
}

export class StoreError extends Error {
  constructor(message: string, cause?: unknown) {
    super(message, { cause });
    this.name = 'StoreError';
  }
}

interface Pending {
  job: DeliveryJob;
  spooled: Spooled;
  /** The spool name still exists (it was linked, not renamed): removed once the batch is committed. */
  leftover: boolean;
  /** Every file the job's steps create: removed if the delivery fails. */
  created: string[];
  dirs: Set<string>;
  resolve(stored: StoredMessage[]): void;
  reject(e: Error): void;
}

/** Most deliveries committed together. */
const MAX_BATCH = 256;
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
const syncFd = (fd: number) =>
  new Promise<void>((resolve, reject) => fdatasync(fd, (e) => (e ? reject(e) : resolve())));

export function createStore(mailDir: string, repos: Repos) {
  const spoolDir = join(mailDir, '.spool');
  const queueDir = join(mailDir, '.queue');
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });
  // Nothing is being delivered yet: anything in the spool is a leftover of a crash (a message that was never
  // acknowledged, or the spool name of one already linked into its mailboxes).
  for (const f of readdirSync(spoolDir)) safeUnlink(join(spoolDir, f));
  const pending: Pending[] = [];
  let draining = false;

  // Also the spool name: a file step may have failed before it was renamed away.
  const fail = (p: Pending, e: unknown) => {
    for (const f of [...p.created, p.spooled.path]) safeUnlink(f);
    release([p.job.items[0]?.maildirName ?? '']);
    p.reject(new StoreError(`delivery failed: ${(e as Error).message}`, e));
  };

  /**
   * Makes a batch's directories durable and commits it, then settles its deliveries. Never rejects. Both happen
   * on the mail writer thread (one trip off the event loop for the directory fsyncs and the commit).
   */
  async function commit(batch: Pending[]): Promise<void> {
    let results: Awaited<ReturnType<Repos['mail']['deliverBatchAsync']>>;
    try {
      results = await repos.mail.deliverBatchAsync(
        batch.map((p) => p.job),
        [...new Set(batch.flatMap((p) => [...p.dirs]))],
      );
    } catch (e) {
      for (const p of batch) fail(p, e);
      return;
    }
    for (const [i, r] of results.entries()) {
      const p = batch[i]!;
      if (!r.ok) {
        fail(p, r.error);
        continue;
      }
      // A spool name that was linked (not renamed) is only a leftover now: remove it off the event loop.
      if (p.leftover) unlink(p.spooled.path).catch(() => {});
      release([p.job.items[0]?.maildirName ?? '']);
      p.resolve(r.stored);
    }
  }

  /**
   * Pipelined: while one batch commits, the next one is queued behind it (the writer commits in order); at most
   * two batches are in flight.
   */
  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    let previous: Promise<void> = Promise.resolve();
    try {
      while (pending.length) {
        const committing = commit(pending.splice(0, MAX_BATCH));
        await previous;
        previous = committing;
      }
      await previous;
    } finally {
      draining = false;
    }
    // Deliveries that arrived while the last commit was awaited.
    if (pending.length) void drain();
  }

  const store = {
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
      into?: Pick<StoreTarget, 'email' | 'mailboxName'>,
    ): Promise<Spooled> {
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
            await syncFd(fd);
          } catch (e) {
            failure = e as Error;
          }
          if (fd !== undefined) closeSync(fd);
        } else {
          try {
            if (fh) await fh.datasync();
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
      return { path, unique, size, bareLf, headers: parseIndexHeaders(Buffer.concat(head)), oversized };
    },

    discard(spooled: Spooled): void {
      safeUnlink(spooled.path);
    },

    /**
     * Moves the spooled file into the first target's cur/ (when it was spooled in its tmp/), links it into every
     * other target mailbox and indexes it (with `events` and the forwarded copies'
     * queue rows) atomically. Group commit: deliveries that arrive while a batch is being made durable wait and
     * go together in the next batch: one fsync per directory and one SQLite commit for the whole batch.
     */
    deliver(
      spooled: Spooled,
      targets: StoreTarget[],
      events: NewDeliveryEvent[],
      forwards: Omit<NewQueueEntry, 'spool_file' | 'size'>[] = [],
      internalDate = Date.now(),
    ): Promise<StoredMessage[]> {
      // The files are put in place on the mail writer thread, right before it fsyncs their directories: here
      // only the plan (renames and links never block the event loop).
      const files: FileStep[] = [];
      const created: string[] = [];
      const dirs = new Set<string>();
      let queueFile: string | undefined;
      // Where the bytes are: the spool name until it is renamed into a mailbox.
      let source = spooled.path;
      let moved = false;
      const place = (to: string, move: boolean) => {
        files.push({ from: source, to, move });
        created.push(to);
        if (move) {
          source = to;
          moved = true;
        }
      };
      try {
        // A new message has no flags: an empty info part.
        const name = `${spooled.unique},S=${spooled.size}:2,`;
        for (const t of targets) {
          // The same path rules as IMAP (mailboxFiles.ts): one place maps a user and mailbox to a folder.
          const dir = new UserMaildir(mailDir, t.email).ensure(t.mailboxName);
          place(join(dir, 'cur', name), !moved && source === join(dir, 'tmp', spooled.unique));
          dirs.add(join(dir, 'cur'));
        }
        if (forwards.length) {
          // Forwarded copies wait in the outbound queue (<mail_dir>/.queue) until outbound delivery sends them;
          // a message no mailbox took moves there from the spool.
          mkdirSync(queueDir, { recursive: true, mode: 0o700 });
          queueFile = join(queueDir, spooled.unique);
          place(queueFile, !moved);
          dirs.add(queueDir);
        }
      } catch (e) {
        return Promise.reject(new StoreError(`delivery failed: ${(e as Error).message}`, e));
      }
      const job: DeliveryJob = {
        items: targets.map((t) => ({
          userId: t.userId,
          mailboxId: t.mailboxId,
          maildirName: `${spooled.unique},S=${spooled.size}`,
          // The size IMAP reports (RFC822.SIZE): that of the CRLF form it serves (see crlf.ts).
          size: spooled.size + spooled.bareLf,
          internalDate,
          messageId: spooled.headers.messageId,
          subject: spooled.headers.subject,
          fromAddr: spooled.headers.from,
          dateHeader: spooled.headers.date,
        })),
        events,
        forwards: forwards.map((f) => ({ ...f, spool_file: queueFile!, size: spooled.size })),
        files,
      };
      // In cur/ before it is indexed: the Maildir pickup must not take it for mail from elsewhere.
      hold([job.items[0]?.maildirName ?? '']);
      return new Promise((resolve, reject) => {
        pending.push({ job, spooled, leftover: !moved, created, dirs, resolve, reject });
        void drain();
      });
    },
  };
  return store;
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export type Store = ReturnType<typeof createStore>;
