// NAMESPACE (RFC 2342). Rules: one personal namespace with prefix "" and delimiter "/"; no shared or other users'.
import { noMore } from './args.ts';
import { AUTH, type CommandSpec } from './types.ts';

export const namespace: CommandSpec = {
  name: 'NAMESPACE',
  states: AUTH,
  handler(s, args) {
    noMore(args, 0, 'NAMESPACE');
    s.untagged('NAMESPACE (("" "/")) NIL NIL');
    return undefined;
  },
};
