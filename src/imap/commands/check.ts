// CHECK (RFC 3501 6.4.1). Rules: every change is already durable when its command completed, so CHECK is a NOOP
// (which also indexes mail other software put into the selected mailbox).
import { noMore } from './args.ts';
import { type CommandSpec, SELECTED } from './types.ts';

export const check: CommandSpec = {
  name: 'CHECK',
  states: SELECTED,
  async handler(s, args) {
    noMore(args, 0, 'CHECK');
    await s.selected!.pickUp(s);
    return undefined;
  },
};
