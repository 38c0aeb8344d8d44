// CHECK (RFC 3501 6.4.1). Rules: every change is already durable when its command completed, so CHECK is a NOOP
// (which also indexes mail other software put into the selected mailbox).
import { noArgs, selected } from './types.ts';

export const check = selected({
  name: 'CHECK',
  parse: noArgs('CHECK'),
  async run(s) {
    await s.selected.pickUp(s);
    return undefined;
  },
});
