import { ImapNo } from '../protocol/types.ts';
import type { Session } from '../session.ts';
import { noMore } from './args.ts';
import { uidsOf } from './sets.ts';
import { type CommandSpec, SELECTED } from './types.ts';

export function expungeNow(s: Session, uids: number[] | undefined, silent: boolean): void {
  const box = s.selected!;
  box.reportExpunged(s, s.deps.mail.expunge(s.user!, box.box, uids).uids, silent);
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
