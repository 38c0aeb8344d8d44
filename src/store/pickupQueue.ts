/**
 * Indexes what other software put into a folder (pickup.ts finds it: an MDA's new/, Dovecot, a migration), run by
 * the mail store before IMAP reports on the folder (SELECT, EXAMINE, STATUS and LIST's, NOOP, CHECK). Rules: one
 * pickup per folder at a time in this process (a caller arriving meanwhile waits for it, then looks again), so
 * nothing is indexed twice; files are read and indexed in chunks of CHUNK, yielding to the event loop between
 * chunks, so a migrated folder of 100,000 messages does not stall every other session; each chunk is committed
 * (and announced) on its own, and the folder is marked as read only when all of it is indexed. No quota is
 * enforced (the mail is already on disk) but the user's usage counts it; the new messages get UIDs in the order the
 * files arrived; a failure is logged and the caller goes on without the rest (the next look tries again).
 */
import type { Logger } from '../log/logger.ts';
import { flagsOf, type MessagesRepo } from '../repos/messages.ts';
import type { MailboxRow } from '../repos/rows.ts';
import { listUnindexed, readCandidates } from './pickup.ts';

/** Files read and indexed per step (about 0.1 s of work at 0.17 ms a file). */
export const CHUNK = 500;

/** New UIDs a pickup indexed, and the mod-sequence of its last change. */
export interface PickedUp {
  uids: number[];
  modseq: number;
}

export function createPickupQueue(messages: MessagesRepo, log: Logger) {
  const running = new Map<string, Promise<unknown>>();

  async function pickUpNow(user: { id: number; email: string }, box: MailboxRow, dir: string) {
    let names: Set<string> | undefined;
    // Loaded only when a file has to be checked.
    const known = (n: string) => {
      names ??= messages.maildirNames(box.id);
      return names.has(n);
    };
    const uids: number[] = [];
    let modseq = 0;
    try {
      const { files, done } = listUnindexed(dir, known);
      for (let i = 0; i < files.length; i += CHUNK) {
        if (i > 0) await new Promise((r) => setImmediate(r));
        const found = readCandidates(dir, files.slice(i, i + CHUNK));
        if (!found.length) continue;
        const r = messages.insert(
          user.id,
          box.id,
          found.map((f) => ({
            maildirName: f.maildirName,
            size: f.size,
            internalDate: f.internalDate,
            flags: flagsOf(f.flags),
            messageId: f.headers.messageId,
            subject: f.headers.subject,
            fromAddr: f.headers.from,
            dateHeader: f.headers.date,
          })),
          0,
        );
        uids.push(...r.uids);
        modseq = r.modseq;
      }
      done();
    } catch (err) {
      log.warn({ err, user: user.email, mailbox: box.name, indexed: uids.length }, 'maildir pickup failed');
    }
    if (!uids.length) return null;
    log.info({ user: user.email, mailbox: box.name, count: uids.length }, 'maildir files picked up');
    return { uids, modseq };
  }

  /** Indexes the unindexed files of `box`, whose folder is `dir`. */
  return async function pickUp(
    user: { id: number; email: string },
    box: MailboxRow,
    dir: string,
  ): Promise<PickedUp | null> {
    for (let other = running.get(dir); other; other = running.get(dir)) await other.catch(() => {});
    const work = pickUpNow(user, box, dir);
    running.set(dir, work);
    try {
      return await work;
    } finally {
      running.delete(dir);
    }
  };
}
