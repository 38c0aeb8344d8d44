// NOOP (RFC 3501 6.1.2). Rules: indexes mail other software put into the selected mailbox (store/pickupQueue.ts), and
// lets pending mailbox changes be reported (by the session).
import { noMore } from './args.ts';
import { ANY, type CommandSpec } from './types.ts';

export const noop: CommandSpec = {
  name: 'NOOP',
  states: ANY,
  async handler(s, args) {
    noMore(args, 0, 'NOOP');
    await s.selected?.pickUp(s);
    return undefined;
  },
};
