// NOOP (RFC 3501 6.1.2). Rules: indexes mail other software put into the selected mailbox (imap/pickup.ts), and
// lets pending mailbox changes be reported (by the session).
import { pickUpSelected } from '../pickup.ts';
import { noMore } from './args.ts';
import { ANY, type CommandSpec } from './types.ts';

export const noop: CommandSpec = {
  name: 'NOOP',
  states: ANY,
  async handler(s, args) {
    noMore(args, 0, 'NOOP');
    await pickUpSelected(s);
    return undefined;
  },
};
