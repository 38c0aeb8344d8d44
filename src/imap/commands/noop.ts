// NOOP (RFC 3501 6.1.2). Rules: does nothing but let pending mailbox changes be reported (by the session).
import { noMore } from './args.ts';
import { ANY, type CommandSpec } from './types.ts';

export const noop: CommandSpec = {
  name: 'NOOP',
  states: ANY,
  handler(_s, args) {
    noMore(args, 0, 'NOOP');
    return undefined;
  },
};
