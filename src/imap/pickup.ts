/**
 * Indexes what other software put into a folder (store/pickup.ts: an MDA's new/, Dovecot, a migration) before
 * IMAP reports on it: SELECT, EXAMINE, STATUS (also LIST's), NOOP and CHECK. Rules: one pickup per folder at a
 * time in this process (a command arriving meanwhile waits for it, then looks again), so nothing is indexed twice;
 * files are read and indexed in chunks of CHUNK, yielding to the event loop between chunks, so a migrated folder
 * of 100,000 messages does not stall every other session; each chunk is committed (and announced) on its own, and
 * the folder is marked as read only when all of it is indexed. No quota is enforced (the mail is already on disk)
 * but the user's usage counts it; the new messages get UIDs in the order the files arrived; a failure is logged
 * and the command goes on without the rest (the next command tries again).
 */
import type { MailboxRow } from '../../schema/db/tables.ts';
import { flagsOf } from '../repos/messages.ts';
import { listUnindexed, readCandidates } from '../store/pickup.ts';
import type { Session } from './session.ts';

/** Files read and indexed per step (about 0.1 s of work at 0.17 ms a file). */
export const CHUNK = 500;

const running = new Map<string, Promise<unknown>>();

/** Indexes the folder's unindexed files; returns the new UIDs and the mod-sequence of the last change. */
export async function pickUp(s: Session, box: MailboxRow): Promise<{ uids: number[]; modseq: number } | null> {
  const dir = s.user!.files.dir(box.name);
  for (let other = running.get(dir); other; other = running.get(dir)) await other.catch(() => {});
  const work = pickUpNow(s, box, dir);
  running.set(dir, work);
  try {
    return await work;
  } finally {
    running.delete(dir);
  }
}

async function pickUpNow(s: Session, box: MailboxRow, dir: string) {
  const user = s.user!;
  const log = s.deps.log;
  let names: Set<string> | undefined;
  // Loaded only when a file has to be checked.
  const known = (n: string) => {
    names ??= s.deps.repos.messages.maildirNames(box.id);
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
      const r = s.deps.repos.messages.insert(
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

/** NOOP and CHECK: picks up into the selected mailbox and lets this command report the new messages. */
export async function pickUpSelected(s: Session): Promise<void> {
  const sel = s.selected;
  if (!sel) return;
  const r = await pickUp(s, sel.box);
  if (r && s.selected === sel)
    sel.onChange({ userId: s.user!.id, mailboxId: sel.id, kind: 'exists', uids: r.uids, modseq: r.modseq });
}
