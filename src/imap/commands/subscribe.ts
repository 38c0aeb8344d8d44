// SUBSCRIBE and UNSUBSCRIBE (RFC 3501 6.3.6-6.3.7). Rules: subscriptions are a flag on existing mailboxes;
// unsubscribing a name that does not exist succeeds (nothing to do).
import { NotFoundError } from '../../repos/errors.ts';
import { ImapNo } from '../protocol/types.ts';
import { mailboxArg, noMore } from './args.ts';
import { authenticated } from './types.ts';

function sub(on: boolean) {
  return authenticated({
    name: on ? 'SUBSCRIBE' : 'UNSUBSCRIBE',
    parse(args) {
      const name = mailboxArg(args[0]);
      noMore(args, 1, on ? 'SUBSCRIBE' : 'UNSUBSCRIBE');
      return name;
    },
    run(s, name) {
      try {
        s.deps.mail.subscribe(s.user, name, on);
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
        if (on) throw new ImapNo(`Mailbox ${name} does not exist`, 'NONEXISTENT');
      }
      return undefined;
    },
  });
}

export const subscribe = sub(true);
export const unsubscribe = sub(false);
