// CAPABILITY (RFC 3501 6.1.1). Rules: the list depends on the state and on TLS (see Session.capabilities).
import { anyState, noArgs } from './types.ts';

export const capability = anyState({
  name: 'CAPABILITY',
  parse: noArgs('CAPABILITY'),
  run(s) {
    s.untagged(`CAPABILITY ${s.capabilities().join(' ')}`);
    return undefined;
  },
});
