/**
 * RENAME (RFC 3501 6.3.5). Rules: a missing source is reported before anything about the target (NO
 * [NONEXISTENT]); children move with their parent; the index is renamed first (commit), then the Maildir++
 * folders; renaming INBOX moves its messages into the new mailbox (files linked, then an atomic index move) and
 * leaves INBOX empty.
 */
import { ImapNo } from '../protocol/types.ts';
import { checkNewMailboxName, mailboxArg, noMore } from './args.ts';
import { mapRepoError } from './mailboxErrors.ts';
import { authenticated } from './types.ts';

export const rename = authenticated({
  name: 'RENAME',
  parse(args) {
    const from = mailboxArg(args[0]);
    const target = mailboxArg(args[1]);
    noMore(args, 2, 'RENAME');
    return { from, target };
  },
  async run(s, { from, target }) {
    if (!s.deps.index.mailboxes.get(s.user.id, from)) throw new ImapNo(`Mailbox ${from} does not exist`, 'NONEXISTENT');
    const to = checkNewMailboxName(target);
    let result: Awaited<ReturnType<typeof s.deps.mail.renameMailbox>>;
    try {
      result = await s.deps.mail.renameMailbox(s.user, from, to);
    } catch (e) {
      mapRepoError(e);
    }
    if (s.selected && result.renamed.length) {
      const fresh = s.deps.index.mailboxes.byId(s.selected.id);
      if (fresh) s.selected.box = fresh;
    }
    return undefined;
  },
});
