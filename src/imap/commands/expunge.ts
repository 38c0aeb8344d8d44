/**
 * EXPUNGE, UID EXPUNGE (RFC 3501 6.4.3, RFC 4315 2.1), CLOSE (6.4.2) and UNSELECT (RFC 3691). Rules: only \Deleted
 * messages go (UID EXPUNGE: only those also in its set); the index commit comes first, then the files are
 * unlinked; this session's expunges are reported highest sequence number first (or as VANISHED under QRESYNC);
 * CLOSE expunges silently (not in a read-only mailbox); UNSELECT never expunges.
 */
import { toSequenceSet } from '../protocol/sequenceSet.ts';
import { ImapNo } from '../protocol/types.ts';
import type { Session } from '../session.ts';
import { noMore } from './args.ts';
import { uidsOf } from './sets.ts';
import { type CommandSpec, SELECTED } from './types.ts';

export function expungeNow(s: Session, uids: number[] | undefined, silent: boolean): void {
  const box = s.selected!;
  const user = s.user!;
  const r = s.deps.repos.messages.expunge(user.id, box.id, uids);
  user.files.remove(box.box.name, r.expunged);
  if (silent) {
    const gone = new Set(r.expunged.map((e) => e.uid));
    box.uids = box.uids.filter((u) => !gone.has(u));
    return;
  }
  const seqs = r.expunged
    .map((e) => box.seqOf(e.uid))
    .filter((n) => n > 0)
    .sort((a, b) => b - a);
  if (s.qresync) {
    const uidsGone = seqs.map((n) => box.uids[n - 1]!).sort((a, b) => a - b);
    for (const n of seqs) box.uids.splice(n - 1, 1);
    if (uidsGone.length) s.untagged(`VANISHED ${toSequenceSet(uidsGone)}`);
    return;
  }
  for (const n of seqs) {
    box.uids.splice(n - 1, 1);
    s.untagged(`${n} EXPUNGE`);
  }
}

export const expunge: CommandSpec = {
  name: 'EXPUNGE',
  states: SELECTED,
  handler(s, args) {
    noMore(args, 0, 'EXPUNGE');
    if (s.selected!.readOnly) throw new ImapNo('Mailbox is read-only', 'READ-ONLY');
    expungeNow(s, undefined, false);
    return undefined;
  },
};

export const uidExpunge: CommandSpec = {
  name: 'UID EXPUNGE',
  states: SELECTED,
  handler(s, args) {
    const uids = uidsOf(s.selected!, args[0], true);
    noMore(args, 1, 'UID EXPUNGE');
    if (s.selected!.readOnly) throw new ImapNo('Mailbox is read-only', 'READ-ONLY');
    expungeNow(s, uids, false);
    return undefined;
  },
};

export const close: CommandSpec = {
  name: 'CLOSE',
  states: SELECTED,
  handler(s, args) {
    noMore(args, 0, 'CLOSE');
    if (!s.selected!.readOnly) expungeNow(s, undefined, true);
    s.deselect();
    return undefined;
  },
};

export const unselect: CommandSpec = {
  name: 'UNSELECT',
  states: SELECTED,
  handler(s, args) {
    noMore(args, 0, 'UNSELECT');
    s.deselect();
    return undefined;
  },
};
