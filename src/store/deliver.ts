/**
 * SMTP delivery: deliver() makes a spooled message durable in every target mailbox, then indexes it.
 * Order (RFC 5321 6.1: accept only what is safely stored): spool.ts has the data in the first target mailbox's
 * tmp/ (or <mail_dir>/.spool) and fdatasync'd -> the commit thread (commitThread.ts) renames it into that mailbox's
 * cur/ (or, when that mailbox is not a target, another folder of the same user: INBOX's tmp/ into Junk's cur/),
 * hard-links it into every other target's cur/ (a durable copy where a link is impossible), fsyncs each
 * cur/, then indexes all targets and records the delivery events in one SQLite transaction (with the queue rows of
 * copies forwarded to remote addresses, linked into <mail_dir>/.queue), so the event loop serves other sessions
 * meanwhile; an in-memory index does the same steps in-process. Group commit: deliveries that arrive while a batch
 * is being made durable go together in the next batch (one fsync per directory, one commit). Rules: on any failure
 * every file this delivery created is removed and nothing is indexed (the caller answers 451 4.3.0); the caller
 * answers 250 only after deliver() resolved; a file in cur/ not indexed yet is held (held.ts) so that the Maildir
 * pickup leaves it alone; a file left in tmp/ by a crash is removed by the tmp/ sweep (maildir.ts).
 */
import { mkdirSync } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { BatchResult, DeliveriesRepo, DeliveryJob, StoredMessage } from '../repos/deliveries.ts';
import type { NewDeliveryEvent } from '../repos/deliveryEvents.ts';
import type { NewQueueEntry } from '../repos/queue.ts';
import { type CommitThread, createCommitThread } from './commitThread.ts';
import { hold, release } from './held.ts';
import { UserMaildir } from './mailboxFiles.ts';
import type { FileStep } from './placeFiles.d.mts';
import { placeBatch } from './placeFiles.mjs';
import { type Spooled, StoreError, safeUnlink } from './spool.ts';

export interface StoreTarget {
  userId: number;
  email: string;
  mailboxId: number;
  mailboxName: string;
  /** Delivered with \Seen (a copy of the user's own submitted message in Sent); default false. */
  seen?: boolean;
}

/** A forwarded copy's queue row, before it has its spool file and size. */
export type Forward = Omit<NewQueueEntry, 'spool_file' | 'size'>;

interface Pending {
  job: DeliveryJob;
  files: FileStep[];
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

export function createDelivery(mailDir: string, deliveries: DeliveriesRepo) {
  const queueDir = join(mailDir, '.queue');
  const pending: Pending[] = [];
  let draining = false;
  let thread: CommitThread | null | undefined;

  /** The files of a batch put in place, then its rows committed: on the commit thread, or here in-process. */
  const commitBatch = async (batch: Pending[], dirs: string[]): Promise<BatchResult[]> => {
    const jobs = batch.map((p) => p.job);
    const files = batch.map((p) => p.files);
    if (thread === undefined) {
      const connection = deliveries.connection();
      thread = connection && createCommitThread(connection);
    }
    if (!thread) return deliveries.commit(jobs, placeBatch(files, dirs));
    const now = Date.now();
    return deliveries.committed(jobs, await thread.write(deliveries.encode(jobs, now), files, dirs), now);
  };

  // Also the spool name: a file step may have failed before it was renamed away.
  const fail = (p: Pending, e: unknown) => {
    for (const f of [...p.created, p.spooled.path]) safeUnlink(f);
    release([p.job.items[0]?.maildirName ?? '']);
    p.reject(new StoreError(`delivery failed: ${(e as Error).message}`, e));
  };

  /** Makes a batch's files durable and commits it, then settles its deliveries. Never rejects. */
  async function commit(batch: Pending[]): Promise<void> {
    let results: BatchResult[];
    try {
      results = await commitBatch(batch, [...new Set(batch.flatMap((p) => [...p.dirs]))]);
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
   * Pipelined: while one batch commits, the next one is queued behind it (the thread commits in order); at most
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

  return {
    /**
     * Moves the spooled file into the first target's cur/ (when it was spooled in its tmp/), links it into every
     * other target mailbox and indexes it (with `events` and the forwarded copies' queue rows) atomically.
     */
    deliver(
      spooled: Spooled,
      targets: StoreTarget[],
      events: NewDeliveryEvent[],
      forwards: Forward[] = [],
      internalDate = Date.now(),
    ): Promise<StoredMessage[]> {
      // Only durable bytes are indexed: a file spooled with { sync: false } goes through rewriteHeaders() first.
      if (!spooled.synced) return Promise.reject(new StoreError(`not synced: ${spooled.path}`));
      // The files are put in place on the commit thread, right before it fsyncs their directories: here only the
      // plan (renames and links never block the event loop).
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
        // A new message has no flags (an empty info part), but for a target delivered \Seen.
        const name = (t: StoreTarget) => `${spooled.unique},S=${spooled.size}:2,${t.seen ? 'S' : ''}`;
        // The same path rules as IMAP (mailboxFiles.ts): one place maps a user and mailbox to a folder.
        const folders = targets.map((t) => {
          const user = new UserMaildir(mailDir, t.email);
          return { root: user.root, dir: user.ensure(t.mailboxName) };
        });
        // The spool file is renamed into the target whose tmp/ holds it, else into another folder of the same
        // user (spooled into INBOX, delivered to Junk: one Maildir, one filesystem), else only linked.
        const spoolFolder = dirname(dirname(spooled.path));
        let into = folders.findIndex((f) => source === join(f.dir, 'tmp', spooled.unique));
        if (into < 0) into = folders.findIndex((f) => spoolFolder === f.root || dirname(spoolFolder) === f.root);
        for (const [i, f] of folders.entries()) {
          place(join(f.dir, 'cur', name(targets[i]!)), i === into);
          dirs.add(join(f.dir, 'cur'));
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
          seen: t.seen ?? false,
        })),
        events,
        forwards: forwards.map((f) => ({ ...f, spool_file: queueFile!, size: spooled.size })),
      };
      // In cur/ before it is indexed: the Maildir pickup must not take it for mail from elsewhere.
      hold([job.items[0]?.maildirName ?? '']);
      return new Promise((resolve, reject) => {
        pending.push({ job, files, spooled, leftover: !moved, created, dirs, resolve, reject });
        void drain();
      });
    },

    /** Stops the commit thread once its batches are committed (before the database is closed). */
    async close(): Promise<void> {
      await thread?.close();
      thread = undefined;
    },
  };
}

export type Delivery = ReturnType<typeof createDelivery>;
