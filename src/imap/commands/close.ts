// CLOSE (RFC 3501 6.4.2) and UNSELECT (RFC 3691). Rules: both return to the Authenticated state; CLOSE first
// expunges the \Deleted messages of a read-write mailbox without reporting them; UNSELECT and CLOSE of a
// read-only mailbox remove nothing.
import { expungeNow } from './expunge.ts';
import { noArgs, selected } from './types.ts';

export const close = selected({
  name: 'CLOSE',
  parse: noArgs('CLOSE'),
  run(s) {
    if (!s.selected.readOnly) expungeNow(s, undefined, true);
    s.deselect();
    return undefined;
  },
});

export const unselect = selected({
  name: 'UNSELECT',
  parse: noArgs('UNSELECT'),
  run(s) {
    s.deselect();
    return undefined;
  },
});
