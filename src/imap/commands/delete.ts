// DELETE (RFC 3501 6.3.4). Rules: INBOX cannot be deleted; the index rows go first (commit), then the folder's
// files; children stay (they are separate mailboxes); a session with it selected is told BYE by its sync.
import { ImapNo } from '../protocol/types.ts';
import { mailboxArg, noMore } from './args.ts';
import { mapRepoError } from './mailboxErrors.ts';
import { authenticated } from './types.ts';

export const del = authenticated({
  name: 'DELETE',
  parse(args) {
    const name = mailboxArg(args[0]);
    noMore(args, 1, 'DELETE');
    if (name === 'INBOX') throw new ImapNo('INBOX cannot be deleted', 'CANNOT');
    return name;
  },
  run(s, name) {
    if (s.selected?.box.name === name) s.deselect();
    try {
      s.deps.mail.deleteMailbox(s.user, name);
    } catch (e) {
      mapRepoError(e);
    }
    return undefined;
  },
});
