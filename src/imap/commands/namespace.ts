// NAMESPACE (RFC 2342). Rules: one personal namespace with prefix "" and delimiter "/"; no shared or other users'.
import { authenticated, noArgs } from './types.ts';

export const namespace = authenticated({
  name: 'NAMESPACE',
  parse: noArgs('NAMESPACE'),
  run(s) {
    s.untagged('NAMESPACE (("" "/")) NIL NIL');
    return undefined;
  },
});
