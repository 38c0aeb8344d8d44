/**
 * Indexes what other software put into a folder (store/pickup.ts: an MDA's new/, Dovecot, a migration) before
 * IMAP reports on it: SELECT, EXAMINE, STATUS (also LIST's), NOOP and CHECK. Rules: synchronous from the
 * directory read to the index commit, so no other command of this process interleaves and nothing is indexed
 * twice; no quota is enforced (the mail is already on disk) but the user's usage counts it; the new messages
 * get UIDs in the order the files arrived; a failure is logged and the command goes on without them.
 */
import type { MailboxRow } from '../../schema/db/tables.ts';
import { flagsOf } from '../repos/messages.ts';
import { findUnindexed } from '../store/pickup.ts';
import type { Session } from './session.ts';

/** Indexes the folder's unindexed files; returns the new UIDs and the mod-sequence of the change. */
export function pickUp(s: Session, box: MailboxRow): { uids: number[]; modseq: number } | null {
  const user = s.user!;
  let names: Set<string> | undefined;
  try {
    // Loaded only when a file has to be checked.
    const known = (n: string) => {
      names ??= s.deps.repos.messages.maildirNames(box.id);
      return names.has(n);
    };
    const { found, done } = findUnindexed(user.files.dir(box.name), known);
    if (!found.length) {
      done();
      return null;
    }
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
    done();
    s.deps.log.info({ user: user.email, mailbox: box.name, count: found.length }, 'maildir files picked up');
    return { uids: r.uids, modseq: r.modseq };
  } catch (err) {
    s.deps.log.warn({ err, user: user.email, mailbox: box.name }, 'maildir pickup failed');
    return null;
  }
}

/** NOOP and CHECK: picks up into the selected mailbox and lets this command report the new messages. */
export function pickUpSelected(s: Session): void {
  const sel = s.selected;
  if (!sel) return;
  const r = pickUp(s, sel.box);
  if (r) sel.onChange({ userId: s.user!.id, mailboxId: sel.id, kind: 'exists', uids: r.uids, modseq: r.modseq });
}
