/**
 * COPY, UID COPY, MOVE, UID MOVE (RFC 3501 6.4.7, RFC 4315 COPYUID, RFC 6851 MOVE). Rules: the files are
 * hard-linked into the target folder and fsync'd before the index commit; COPY checks the quota inside the commit
 * (NO [OVERQUOTA], nothing copied); MOVE indexes the copies and expunges the originals in one transaction, then
 * unlinks the original files and reports the expunges; a missing target is NO [TRYCREATE]; on failure nothing
 * is left behind.
 */

import type { MailboxRow } from '../../../schema/db/tables.ts';
import { flagsOf } from '../../repos/messages.ts';
import { release } from '../../store/held.ts';
import { removeQuietly } from '../../store/mailboxFiles.ts';
import { quotaOf } from '../auth.ts';
import { toSequenceSet } from '../protocol/sequenceSet.ts';
import { ImapNo } from '../protocol/types.ts';
import type { Done, Session } from '../session.ts';
import { mailboxArg, noMore } from './args.ts';
import { mapRepoError } from './mailboxErrors.ts';
import { uidsOf } from './sets.ts';
import { type CommandSpec, SELECTED } from './types.ts';

/** Copies (or moves) `uids` of `from` into `to`; returns the COPYUID code. */
export async function moveMessages(
  s: Session,
  from: MailboxRow,
  to: MailboxRow,
  uids: number[],
  move = true,
): Promise<{ code: string; expunged: number[] } | null> {
  const user = s.user!;
  const rows = s.deps.repos.messages.rows(from.id, uids);
  if (!rows.length) return null;
  const files = await user.files.linkInto(
    from.name,
    to.name,
    rows.map((r) => ({ maildirName: r.maildir_name, flags: r, size: r.size })),
  );
  let result: ReturnType<typeof s.deps.repos.messages.insert>;
  try {
    result = s.deps.repos.messages.insert(
      user.id,
      to.id,
      rows.map((r, i) => ({
        maildirName: files[i]!.maildirName,
        size: r.size,
        internalDate: r.internal_date,
        flags: flagsOf(r),
        messageId: r.message_id,
        subject: r.subject,
        fromAddr: r.from_addr,
        dateHeader: r.date_header,
      })),
      // A move inside the account does not change usage, so no quota applies.
      move ? 0 : quotaOf(s.deps, user).limit,
      move ? { mailboxId: from.id, uids: rows.map((r) => r.uid) } : undefined,
    );
  } catch (e) {
    removeQuietly(files.map((f) => f.path));
    mapRepoError(e);
  } finally {
    release(files.map((f) => f.maildirName));
  }
  // A copy into the selected mailbox is reported (EXISTS) at the end of this command, not when the bus event
  // arrives later.
  if (s.selected?.id === to.id)
    s.selected.onChange({
      userId: user.id,
      mailboxId: to.id,
      kind: 'exists',
      uids: result.uids,
      modseq: result.modseq,
    });
  if (result.expunged) user.files.remove(from.name, result.expunged);
  return {
    code: `COPYUID ${result.uidvalidity} ${toSequenceSet(rows.map((r) => r.uid))} ${toSequenceSet(result.uids)}`,
    expunged: result.expunged?.map((e) => e.uid) ?? [],
  };
}

function run(byUid: boolean, move: boolean): CommandSpec['handler'] {
  return async (s: Session, args): Promise<Done | undefined> => {
    const box = s.selected!;
    const uids = uidsOf(box, args[0], byUid);
    const name = mailboxArg(args[1]);
    noMore(args, 2, move ? 'MOVE' : 'COPY');
    if (move && box.readOnly) throw new ImapNo('Mailbox is read-only', 'READ-ONLY');
    const target = s.deps.repos.mailboxes.get(s.user!.id, name);
    if (!target) throw new ImapNo(`Mailbox ${name} does not exist`, 'TRYCREATE');
    if (move && target.id === box.id) throw new ImapNo('Cannot move a message into its own mailbox', 'CANNOT');
    const r = await moveMessages(s, box.box, target, uids, move);
    if (!r) return { text: `${move ? 'MOVE' : 'COPY'} completed (no messages)` };
    if (!move) return { code: r.code };
    s.untagged(`OK [${r.code}] Moved`);
    // Report our own expunges now (RFC 6851 4.3).
    box.reportExpunged(s, r.expunged);
    return { text: 'MOVE completed' };
  };
}

export const copy: CommandSpec = { name: 'COPY', states: SELECTED, handler: run(false, false) };
export const uidCopy: CommandSpec = { name: 'UID COPY', states: SELECTED, handler: run(true, false), syncBefore: true };
export const move: CommandSpec = { name: 'MOVE', states: SELECTED, handler: run(false, true) };
export const uidMove: CommandSpec = { name: 'UID MOVE', states: SELECTED, handler: run(true, true), syncBefore: true };
