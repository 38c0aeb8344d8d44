// EXPUNGE and UID EXPUNGE (RFC 3501 6.4.3, RFC 4315 2.1). Rules: refused in a read-only mailbox; the index rows
// go first (commit), then the files; this session reports its own expunges before the tagged OK (highest
// sequence number first, or VANISHED under QRESYNC); UID EXPUNGE removes only \Deleted messages of its UID set.
import { ImapNo } from '../protocol/types.ts';
import type { SelectedSession } from '../state.ts';
import { noMore } from './args.ts';
import { sequenceSetArg, uidsOf } from './sets.ts';
import { noArgs, selected } from './types.ts';

/** Expunges the \Deleted messages (of `uids`, or all) and reports them (`silent`: only forgets them, CLOSE). */
export function expungeNow(s: SelectedSession, uids: number[] | undefined, silent: boolean): void {
  const box = s.selected;
  box.reportExpunged(s, s.deps.mail.expunge(s.user, box.box, uids).uids, silent);
}

export const expunge = selected({
  name: 'EXPUNGE',
  parse: noArgs('EXPUNGE'),
  run(s) {
    if (s.selected.readOnly) throw new ImapNo('Mailbox is read-only', 'READ-ONLY');
    expungeNow(s, undefined, false);
    return undefined;
  },
});

export const uidExpunge = selected({
  name: 'UID EXPUNGE',
  parse(args) {
    const set = sequenceSetArg(args[0]);
    noMore(args, 1, 'UID EXPUNGE');
    return set;
  },
  run(s, set) {
    const uids = uidsOf(s.selected, set, true);
    if (s.selected.readOnly) throw new ImapNo('Mailbox is read-only', 'READ-ONLY');
    expungeNow(s, uids, false);
    return undefined;
  },
});
