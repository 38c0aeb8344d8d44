// CHECK (RFC 3501 6.4.1). Rules: every change is already durable when its command completed, so CHECK is a NOOP.
import { noMore } from './args.ts';
import { type CommandSpec, SELECTED } from './types.ts';

export const check: CommandSpec = {
  name: 'CHECK',
  states: SELECTED,
  handler(_s, args) {
    noMore(args, 0, 'CHECK');
    return undefined;
  },
};
