/**
 * The mail store: deliver() makes a message durable in every target mailbox, then indexes it.
 * Order (RFC 5321 6.1: accept only what is safely stored): stream DATA into a spool file under <mail_dir>/.spool
 * (same filesystem as the Maildirs) while counting its size -> fsync it -> hard-link it into each target's cur/
 * (copy where a link is impossible) -> fsync each cur/ -> index all targets and record the delivery events in one
 * SQLite transaction (with the queue rows of copies forwarded to remote addresses, linked into <mail_dir>/.queue)
 * -> remove the spool name. Rules: on any failure every file this call created is removed and
 * nothing is indexed (the caller answers 451 4.3.0); the caller answers 250 only after deliver() resolved.
 */
import { copyFileSync, linkSync, mkdirSync, unlinkSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { NewDeliveryEvent } from '../repos/deliveryEvents.ts';
import type { Repos } from '../repos/index.ts';
import type { StoredMessage } from '../repos/mail.ts';
import type { NewQueueEntry } from '../repos/queue.ts';
import { HEADER_LIMIT, type IndexedHeaders, parseIndexHeaders } from './headers.ts';
import { ensureMaildir, flagSuffix, folderDir, fsyncDir, uniqueName, userDir } from './maildir.ts';

export interface Spooled {
  path: string;
  unique: string;
  /** Bytes on disk: prepended trace headers plus the message as received. */
  size: number;
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

export function createStore(mailDir: string, repos: Repos) {
  const spoolDir = join(mailDir, '.spool');
  const queueDir = join(mailDir, '.queue');
  mkdirSync(spoolDir, { recursive: true, mode: 0o700 });

  const store = {
    /**
     * Writes `prefix` then the stream into a new spool file and fsyncs it. The stream is always read to its
     * end, also after a write error or past maxSize, so the SMTP session can still answer (a for-await loop
     * would destroy the stream when it exits early, leaving the client without a reply).
     */
    async spool(prefix: Buffer, source: Readable, maxSize: number): Promise<Spooled> {
      const unique = uniqueName();
      const path = join(spoolDir, unique);
      let size = prefix.length;
      let oversized = false;
      let failure: Error | null = null;
      const head: Buffer[] = [];
      let headLen = 0;
      let fh: FileHandle | undefined;
      try {
        fh = await open(path, 'wx', 0o600);
        await fh.write(prefix);
      } catch (e) {
        failure = e as Error;
      }
      await new Promise<void>((resolve, reject) => {
        source.on('data', (chunk: Buffer) => {
          if (headLen < HEADER_LIMIT) {
            head.push(chunk);
            headLen += chunk.length;
          }
          size += chunk.length;
          if (size - prefix.length > maxSize) oversized = true;
          if (failure || oversized || !fh) return;
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
      try {
        if (!failure && !oversized && fh) await fh.sync();
      } catch (e) {
        failure = e as Error;
      }
      await fh?.close().catch(() => {});
      if (failure) {
        safeUnlink(path);
        throw new StoreError(`cannot write the message to ${spoolDir}: ${failure.message}`, failure);
      }
      return { path, unique, size, headers: parseIndexHeaders(Buffer.concat(head)), oversized };
    },

    discard(spooled: Spooled): void {
      safeUnlink(spooled.path);
    },

    /** Links the spooled file into every target mailbox and indexes it (with `events`), atomically. */
    deliver(
      spooled: Spooled,
      targets: StoreTarget[],
      events: NewDeliveryEvent[],
      forwards: Omit<NewQueueEntry, 'spool_file' | 'size'>[] = [],
      internalDate = Date.now(),
    ): StoredMessage[] {
      const created: string[] = [];
      try {
        let queueFile: string | undefined;
        if (forwards.length) {
          // Forwarded copies wait in the outbound queue (<mail_dir>/.queue) until outbound delivery sends them.
          mkdirSync(queueDir, { recursive: true, mode: 0o700 });
          queueFile = join(queueDir, spooled.unique);
          linkSync(spooled.path, queueFile);
          created.push(queueFile);
          fsyncDir(queueDir);
        }
        const dirs = new Set<string>();
        const name = `${spooled.unique},S=${spooled.size}${flagSuffix([])}`;
        for (const t of targets) {
          const [local, domain] = splitEmail(t.email);
          const dir = folderDir(userDir(mailDir, domain, local), t.mailboxName);
          ensureMaildir(dir, t.mailboxName.toUpperCase() !== 'INBOX');
          const final = join(dir, 'cur', name);
          try {
            linkSync(spooled.path, final);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code !== 'EXDEV') throw e;
            copyFileSync(spooled.path, final);
          }
          created.push(final);
          dirs.add(join(dir, 'cur'));
        }
        for (const d of dirs) fsyncDir(d);
        const { stored } = repos.mail.deliver(
          targets.map((t) => ({
            userId: t.userId,
            mailboxId: t.mailboxId,
            maildirName: `${spooled.unique},S=${spooled.size}`,
            size: spooled.size,
            internalDate,
            messageId: spooled.headers.messageId,
            subject: spooled.headers.subject,
            fromAddr: spooled.headers.from,
            dateHeader: spooled.headers.date,
          })),
          events,
          forwards.map((f) => ({ ...f, spool_file: queueFile!, size: spooled.size })),
        );
        safeUnlink(spooled.path);
        return stored;
      } catch (e) {
        for (const f of created) safeUnlink(f);
        throw new StoreError(`delivery failed: ${(e as Error).message}`, e);
      }
    },
  };
  return store;
}

function splitEmail(email: string): [string, string] {
  const at = email.lastIndexOf('@');
  return [email.slice(0, at), email.slice(at + 1)];
}

function safeUnlink(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

export type Store = ReturnType<typeof createStore>;
