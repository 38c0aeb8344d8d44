// NOOP (RFC 3501 6.1.2). Rules: indexes mail other software put into the selected mailbox (store/pickupQueue.ts), and
// lets pending mailbox changes be reported (by the session).
import { isSelected } from '../state.ts';
import { anyState, noArgs } from './types.ts';

export const noop = anyState({
  name: 'NOOP',
  parse: noArgs('NOOP'),
  async run(s) {
    if (isSelected(s)) await s.selected.pickUp(s);
    return undefined;
  },
});
