// CAPABILITY (RFC 3501 6.1.1). Rules: the list depends on the state and on TLS (see Session.capabilities).
import { noMore } from './args.ts';
import { ANY, type CommandSpec } from './types.ts';

export const capability: CommandSpec = {
  name: 'CAPABILITY',
  states: ANY,
  handler(s, args) {
    noMore(args, 0, 'CAPABILITY');
    s.untagged(`CAPABILITY ${s.capabilities().join(' ')}`);
    return undefined;
  },
};
