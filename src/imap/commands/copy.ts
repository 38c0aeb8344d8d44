/**
 * COPY, UID COPY, MOVE, UID MOVE (RFC 3501 6.4.7, RFC 4315 COPYUID, RFC 6851 MOVE). Rules: the mail store links
 * the files into the target and makes them durable before the index commit; COPY checks the quota inside the
 * commit (NO [OVERQUOTA], nothing copied); MOVE indexes the copies and expunges the originals in one transaction,
 * then this session reports its own expunges; a missing target is NO [TRYCREATE]; on failure nothing is left behind.
 */

import { type SeqRange, toSequenceSet } from '../protocol/sequenceSet.ts';
import { ImapNo, type Token } from '../protocol/types.ts';
import type { SelectedSession } from '../state.ts';
import { mailboxArg, noMore } from './args.ts';
import { mapRepoError } from './mailboxErrors.ts';
import { sequenceSetArg, uidsOf } from './sets.ts';
import { selected } from './types.ts';

interface CopyArgs {
  set: SeqRange[];
  name: string;
}

function parse(move: boolean) {
  return (args: Token[]): CopyArgs => {
    const set = sequenceSetArg(args[0]);
    const name = mailboxArg(args[1]);
    noMore(args, 2, move ? 'MOVE' : 'COPY');
    return { set, name };
  };
}

function run(byUid: boolean, move: boolean) {
  return async (s: SelectedSession, { set, name }: CopyArgs) => {
    const box = s.selected;
    const user = s.user;
    const uids = uidsOf(box, set, byUid);
    if (move && box.readOnly) throw new ImapNo('Mailbox is read-only', 'READ-ONLY');
    const target = s.deps.index.mailboxes.get(user.id, name);
    if (!target) throw new ImapNo(`Mailbox ${name} does not exist`, 'TRYCREATE');
    if (move && target.id === box.id) throw new ImapNo('Cannot move a message into its own mailbox', 'CANNOT');
    let r: Awaited<ReturnType<typeof s.deps.mail.copy>>;
    try {
      r = await s.deps.mail.copy(user, box.box, target, uids, move);
    } catch (e) {
      mapRepoError(e);
    }
    if (!r) return { text: `${move ? 'MOVE' : 'COPY'} completed (no messages)` };
    // A copy into the selected mailbox is reported (EXISTS) at the end of this command, not when the bus event
    // arrives later.
    if (s.selected?.id === target.id)
      s.selected.onChange({ userId: user.id, mailboxId: target.id, kind: 'exists', uids: r.uids, modseq: r.modseq });
    const code = `COPYUID ${r.uidvalidity} ${toSequenceSet(r.sourceUids)} ${toSequenceSet(r.uids)}`;
    if (!move) return { code };
    s.untagged(`OK [${code}] Moved`);
    // Report our own expunges now (RFC 6851 4.3).
    box.reportExpunged(s, r.expunged);
    return { text: 'MOVE completed' };
  };
}

export const copy = selected({ name: 'COPY', parse: parse(false), run: run(false, false) });
export const uidCopy = selected({ name: 'UID COPY', parse: parse(false), run: run(true, false), syncBefore: true });
export const move = selected({ name: 'MOVE', parse: parse(true), run: run(false, true) });
export const uidMove = selected({ name: 'UID MOVE', parse: parse(true), run: run(true, true), syncBefore: true });
